import { DEFAULT_DIFFUSION, type DiffusionConfig } from '../diffusion/scheduler';
import { captionedDigitsExample, EXAMPLE_CANVAS } from '../data/captioned-example';
import { isTextUNet, isUNet2D, type ModelConfig } from '../model/config';
import { classNames, type ModelMetadata, type SamplingHint } from '../model/metadata';
import { UNet } from '../model/model';
import { FILMSTRIP_LENGTH, type ChannelRequest, type ExampleSet, type TrainSetup } from '../protocol';
import { buildVocabulary } from '../text/tokenizer';
import { measureSecondsPer1000Steps } from '../training/estimate';
import { presetConfig, textPresetConfig } from '../training/presets';
import { priorFor, priorLabelMap, trainConfigFor } from '../training/recipe';
import { TrainingSession, type RunOptions, type SessionHooks, type TrainProgress } from '../training/session';
import { TrainingStore, type SavedData, type SavedPreview, type SavedRun } from '../training/store';
import type { DeviceGate } from './device-gate';
import type { HeldModel, ModelRegistry, TrainedModels, TrainingImages } from './model-registry';
import type { ChannelService, Post } from './service';
import { loadShippedDigits } from './shipped-digits';
import { TrainingData } from './training-data';

const PROGRESS_INTERVAL_MS = 100;
const CHECKPOINT_EVERY = 50;

/**
 * The 'training' channel: the training panel's work in the worker — the person's data set
 * (training-data.ts), the training session and its IndexedDB copy — and the trained model's
 * snapshot, which the models channel uses and exports.
 */
export class TrainingService implements ChannelService<'training'>, TrainedModels {
  readonly channel = 'training';
  private readonly data: TrainingData;
  private session: TrainingSession | null = null;
  private running: Promise<void> | null = null;
  private meta: { classes: string[]; init: string; finetunedFrom?: string; sampling?: SamplingHint; setup: TrainSetup | null } = {
    classes: [],
    init: 'tiny',
    setup: null,
  };
  /** The images the session trains on (the data may change after a run ends; its model's check keeps these). */
  private trainedOn: TrainingImages | null = null;
  /** The run's EMA previews (the newest FILMSTRIP_LENGTH), saved with its checkpoints. */
  private film: SavedPreview[] = [];
  private losses: [number, number][] = [];
  private lastProgress = 0;
  private latest: TrainProgress | null = null;
  private saveFailed = false;
  private estimateCancelled = false;

  constructor(
    private readonly post: Post<'training'>,
    private readonly models: ModelRegistry,
    private readonly device: DeviceGate,
    /** Resolves once the engine has started: a run saved by an earlier visit is announced then. */
    started: Promise<void>,
    private readonly store: TrainingStore | null = typeof indexedDB === 'undefined' ? null : new TrainingStore(),
  ) {
    this.data = new TrainingData(post);
    void started.then(() => this.announceSaved(true));
  }

  async handle(request: ChannelRequest<'training'>): Promise<void> {
    switch (request.type) {
      case 'addFiles':
        this.requireIdle('changing the data');
        return await this.data.add(request.files);
      case 'dataOptions':
        this.requireIdle('changing the data');
        return await this.data.setOptions(request.options);
      case 'clearData':
        this.requireIdle('changing the data');
        return await this.data.clear();
      case 'captions':
        this.requireIdle('changing the data');
        return await this.data.setCaptioned(request.on);
      case 'example':
        this.requireIdle('changing the data');
        return await this.useExample(request.set);
      case 'estimate':
        return await this.estimate(request.setup);
      case 'cancelEstimate':
        this.estimateCancelled = true;
        return;
      case 'start':
        return await this.start(request.setup);
      case 'resumeSaved':
        return await this.resumeSaved();
      case 'discardSaved':
        await this.store?.clear();
        return await this.announceSaved();
      case 'pause':
        return this.session?.pause();
      case 'resume':
        return this.session?.resume();
      case 'stop':
        return this.session?.stop();
      case 'keep':
        // the page is going away: keep a checkpoint now
        return this.session?.requestKeep();
    }
  }

  /**
   * Tells the page about the run saved in this browser (at start-up, and when a run ends; the page
   * replays it to the panel). At start-up its data set becomes the data step's too, so the page
   * shows the pictures, size and colour the run trains on before it is resumed.
   */
  private async announceSaved(atStartUp = false): Promise<void> {
    const saved = await this.store?.load().catch(() => null);
    const r = saved?.run;
    if (atStartUp && saved && r && this.data.dataset.items.length === 0)
      await this.data.restore(saved.data.options, saved.data.items, isTextUNet(r.checkpoint.config));
    this.post({
      channel: 'training',
      type: 'savedRun',
      run:
        saved && r
          ? {
              step: r.checkpoint.step,
              totalSteps: r.run.totalSteps,
              images: saved.data.items.length,
              savedAt: r.savedAt,
              finished: r.checkpoint.step >= r.run.totalSteps,
              setup: r.setup ?? null,
            }
          : null,
    });
    // a saved run's weights can be used (or exported) at once, without resuming it
    const config = this.session?.trainer.model.config ?? r?.checkpoint.config;
    this.models.announceTrained(!!saved || this.session !== null, config !== undefined && isUNet2D(config));
  }

  private requireIdle(what: string): void {
    if (this.running) throw new Error(`stop training before ${what}`);
  }

  /** Replaces the data with an example set: the captioned digits, made here from the shipped training digits. */
  private async useExample(set: ExampleSet): Promise<void> {
    const source = this.models.shipped.trainedOn;
    if (source?.kind !== 'shipped') throw new Error(`the ${set} example needs the shipped training digits, which this page does not have`);
    const digits = await loadShippedDigits(source.url, (url) => fetch(url));
    const items = captionedDigitsExample(digits.values, digits.counts);
    await this.data.useExample(
      { size: EXAMPLE_CANVAS, channels: 1, fit: 'crop' },
      items,
      `the captioned digits example is made at ${EXAMPLE_CANVAS}×${EXAMPLE_CANVAS} grey; clear it to use pictures of another size or colour`,
    );
  }

  /**
   * The model a setup trains: a new one for the data (a text model on captions), or the shipped
   * model that fits the pictures to fine-tune — the digits model for 28×28 grey, the emoji model for
   * 32×32 colour.
   */
  private async plan(setup: TrainSetup): Promise<{
    config: ModelConfig;
    diffusion: DiffusionConfig;
    init?: UNet;
    classes: string[];
    labelMap?: number[];
    finetunedFrom?: string;
    sampling?: SamplingHint;
  }> {
    const { options, dataset } = this.data;
    const dataClasses = dataset.classNames;
    if (this.data.captioned) {
      if (setup.init === 'shipped')
        throw new Error('the shipped models take class labels, not captions: pick tiny or small to train a text model');
      const vocabulary = buildVocabulary(dataset.items.map((i) => i.caption ?? ''));
      return {
        config: textPresetConfig(setup.init, options.size, options.channels, vocabulary),
        diffusion: DEFAULT_DIFFUSION,
        classes: [],
      };
    }
    if (setup.init !== 'shipped')
      return {
        config: presetConfig(setup.init, options.size, options.channels, dataClasses.length),
        diffusion: DEFAULT_DIFFUSION,
        classes: dataClasses,
      };
    const prior = await this.models.priorFor(options.size, options.channels);
    if (!prior)
      throw new Error(
        `no shipped model fits ${options.size}×${options.size} ${options.channels === 1 ? 'grey' : 'colour'} pictures: fine-tuning needs 28×28 grey (the digits model) or 32×32 colour (the emoji model)`,
      );
    const c = prior.model.config;
    const classes = classNames(prior.metadata, c.numClasses);
    const labelMap = priorLabelMap(dataClasses, classes, c.numClasses);
    return {
      config: c,
      diffusion: prior.diffusion,
      init: prior.model,
      classes,
      labelMap,
      finetunedFrom: `the shipped ${priorFor(options.size, options.channels)} model`,
      // a fine-tune opens on its prior's measured sampling settings (bench:ttq, docs/colour.md: for emoji fine-tunes too, guidance 3 to 4 reads more right than 1.5)
      ...(prior.metadata.sampling ? { sampling: prior.metadata.sampling } : {}),
    };
  }

  private async estimate(setup: TrainSetup): Promise<void> {
    await this.device.ready();
    const { config, diffusion } = await this.plan(setup);
    this.estimateCancelled = false;
    const secondsPer1000Steps = await measureSecondsPer1000Steps(config, diffusion, trainConfigFor(setup), setup.batchSize, {
      onStep: (done, total) => this.post({ channel: 'training', type: 'estimateProgress', done, total }),
      cancelled: () => this.estimateCancelled,
    });
    this.post({ channel: 'training', type: 'estimate', secondsPer1000Steps, setup });
  }

  private async start(setup: TrainSetup): Promise<void> {
    await this.device.ready();
    this.requireIdle('starting again');
    await this.data.settled();
    const { dataset, options } = this.data;
    if (dataset.items.length === 0) throw new Error('add some images first');
    const plan = await this.plan(setup);
    const run: RunOptions = {
      batchSize: setup.batchSize,
      totalSteps: setup.totalSteps,
      flip: setup.flip,
      previewEvery: setup.previewEvery,
      checkpointEvery: CHECKPOINT_EVERY,
      labelMap: plan.labelMap,
      classNames: plan.classes,
    };
    this.session?.dispose();
    this.meta = { classes: plan.classes, init: setup.init, finetunedFrom: plan.finetunedFrom, sampling: plan.sampling, setup };
    this.trainedOn = this.data.trainingImages();
    this.film = [];
    this.latest = null;
    this.session = TrainingSession.create(plan.config, plan.diffusion, trainConfigFor(setup), dataset, run, this.hooks(run), plan.init);
    this.losses = [];
    this.saveFailed = false;
    try {
      await this.store?.clear();
      await this.store?.saveData({ options, items: dataset.items });
    } catch (e) {
      this.reportSaveFailure(e);
    }
    await this.drive();
  }

  /** Continues the run saved in IndexedDB (after a reload), with its data set, its form and its previews. */
  private async resumeSaved(): Promise<void> {
    await this.device.ready();
    this.requireIdle('resuming');
    const saved = await this.restore(await this.store?.load());
    this.losses = saved.checkpoint.lossHistory.slice();
    for (const frame of this.film)
      this.post({
        channel: 'training',
        type: 'preview',
        // a run saved before previews named what they asked for
        frame: { ...frame, images: frame.images.slice(), asked: frame.asked ?? [] },
        size: frame.size,
        channels: frame.channels,
      });
    await this.drive();
  }

  /** Makes the saved run the session again (weights, optimiser, data), without training. */
  private async restore(saved: { data: SavedData; run: SavedRun } | null | undefined): Promise<SavedRun> {
    if (!saved) throw new Error('there is no saved training run in this browser');
    await this.data.restore(saved.data.options, saved.data.items, isTextUNet(saved.run.checkpoint.config));
    const run = saved.run.run;
    this.session?.dispose();
    const config = saved.run.checkpoint.config;
    // only for its sampling settings: a prior that cannot load now costs the hint, not the run
    const prior = saved.run.init === 'shipped' ? await this.models.priorFor(config.imageSize, config.inChannels).catch(() => null) : null;
    this.meta = {
      classes: run.classNames ?? this.data.dataset.classNames,
      init: saved.run.init,
      finetunedFrom: saved.run.init === 'shipped' ? `the shipped ${priorFor(config.imageSize, config.inChannels)} model` : undefined,
      sampling: prior?.metadata.sampling,
      setup: saved.run.setup ?? null,
    };
    this.trainedOn = this.data.trainingImages();
    this.film = saved.run.film ?? [];
    this.latest = null;
    this.session = await TrainingSession.resume(saved.run.checkpoint, this.data.dataset, run, this.hooks(run));
    return saved.run;
  }

  private hooks(run: RunOptions): SessionHooks {
    return {
      onState: (state, step) => {
        // progress is sent at most every PROGRESS_INTERVAL_MS: a pause or an end shows the very step it stopped at
        this.flushProgress();
        this.post({ channel: 'training', type: 'state', state, step });
      },
      onStep: (result, progress) => {
        this.losses.push([result.step, result.loss]);
        this.latest = progress;
        const now = performance.now();
        if (now - this.lastProgress >= PROGRESS_INTERVAL_MS || result.step === run.totalSteps) {
          this.lastProgress = now;
          this.post({ channel: 'training', type: 'progress', progress, losses: this.losses });
          this.losses = [];
        }
      },
      onPreview: (frame) => {
        const { imageSize, inChannels } = this.session!.trainer.model.config;
        this.film = [...this.film, { ...frame, images: frame.images.slice(), size: imageSize, channels: inChannels }].slice(
          -FILMSTRIP_LENGTH,
        );
        this.post({ channel: 'training', type: 'preview', frame, size: imageSize, channels: inChannels }, [frame.images.buffer]);
      },
      onCheckpoint: async (checkpoint) => {
        try {
          await this.store?.saveRun({
            checkpoint,
            run,
            init: this.meta.init,
            setup: this.meta.setup ?? undefined,
            film: this.film,
            savedAt: Date.now(),
          });
        } catch (e) {
          this.reportSaveFailure(e);
        }
      },
    };
  }

  /** Sends the progress and losses the throttle held back. */
  private flushProgress(): void {
    if (this.losses.length && this.latest) this.post({ channel: 'training', type: 'progress', progress: this.latest, losses: this.losses });
    this.losses = [];
  }

  private reportSaveFailure(e: unknown): void {
    if (this.saveFailed) return;
    this.saveFailed = true;
    this.post({
      channel: 'training',
      type: 'error',
      message: `checkpoints cannot be saved in this browser (${e instanceof Error ? e.message : String(e)}); training goes on, but a reload will lose it — export the model to keep it`,
    });
  }

  private async drive(): Promise<void> {
    const session = this.session!;
    // the run holds the device: a GPU warm-up begun meanwhile (a model chosen) ends first, and one
    // asked for during the run waits for its end
    const release = await this.device.hold();
    this.models.announceTrained(true, isUNet2D(session.trainer.model.config));
    this.running = session.run().then(async (reason) => {
      this.flushProgress();
      this.running = null;
      this.post({ channel: 'training', type: 'stopped', reason });
      release();
      // the run's last checkpoint is the saved run now: the page offers to resume it, and asks before a new run replaces it
      await this.announceSaved();
    });
    await this.running;
  }

  /** The trained model's EMA weights as a model of their own (the session trains on), for the registry; a saved run is restored first. */
  async snapshot(): Promise<HeldModel> {
    if (!this.session) {
      const saved = await this.store?.load().catch(() => null);
      if (saved) await this.restore(saved);
    }
    const session = this.session;
    if (!session) throw new Error('train a model first (or import one)');
    const source = session.samplingModel;
    const model = UNet.create(source.config);
    source.copyTo(model);
    const images = this.data.dataset.items.length;
    const metadata: ModelMetadata = {
      description: `Trained in the DDPM Playground on ${images} ${isTextUNet(source.config) ? 'captioned ' : ''}images`,
      trainedSteps: session.trainer.step,
      images,
      ...(this.meta.classes.length ? { classes: this.meta.classes } : {}),
      ...(this.meta.finetunedFrom ? { finetunedFrom: this.meta.finetunedFrom } : {}),
      ...(this.meta.sampling ? { sampling: this.meta.sampling } : {}),
    };
    return {
      model,
      diffusion: session.trainer.diffusion,
      metadata,
      source: 'trained',
      ...(this.trainedOn ? { trainedOn: this.trainedOn } : {}),
    };
  }

  /** The file name an export of the snapshot gets (without extension). */
  exportName(held: HeldModel): string {
    return `ddpm-${this.data.options.size}px-step${held.metadata.trainedSteps ?? 0}`;
  }
}
