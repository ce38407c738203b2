import { DataCollection, type DataFile, type DataOptions } from '../data/collection';
import type { DiffusionConfig } from '../diffusion/scheduler';
import { yieldToEvents } from '../engine/yield';
import type { UNetConfig } from '../model/config';
import { UNet } from '../model/model';
import { presetConfig } from '../training/presets';
import { NEW_MODEL_DIFFUSION, trainConfigFor } from '../training/recipe';
import { measureSecondsPer1000Steps, TrainingSession, type RunOptions, type SessionHooks, type TrainProgress } from '../training/session';
import { TrainingStore, type SavedData, type SavedPreview, type SavedRun } from '../training/store';
import type { ImageDataset } from '../data/dataset';
import type { KernelWarmup } from './kernel-warmup';
import type { TrainingImages } from './memorisation';
import type { HeldModel, ModelRegistry } from './models';
import type { ModelsEvent, TrainingEvent, TrainSetup } from './protocol';

const PROGRESS_INTERVAL_MS = 100;
const CHECKPOINT_EVERY = 50;
/** Previews kept with a run (the page's filmstrip shows as many). */
const MAX_FILM = 24;

/**
 * The training panel's work in the worker: the person's data set (decoded here, off the main
 * thread), the training session and its IndexedDB copy, and the trained model's snapshot for the
 * model registry. Talks to the page on the 'training' channel.
 */
export class TrainingService {
  private readonly data = new DataCollection();
  private session: TrainingSession | null = null;
  private running: Promise<void> | null = null;
  private meta: { classes: string[]; init: TrainSetup['init']; setup: TrainSetup | null } = { classes: [], init: 'tiny', setup: null };
  /** The images the session trains on (the data may change after a run ends; its model's check keeps these). */
  private trainedOn: TrainingImages | null = null;
  /** The run's EMA previews (the newest MAX_FILM), saved with its checkpoints. */
  private film: SavedPreview[] = [];
  private losses: [number, number][] = [];
  private lastProgress = 0;
  private latest: TrainProgress | null = null;
  private saveFailed = false;
  private estimateCancelled = false;

  constructor(
    private readonly post: (m: TrainingEvent | ModelsEvent, transfer?: Transferable[]) => void,
    private readonly models: ModelRegistry,
    private readonly warmup: KernelWarmup,
    private readonly store: TrainingStore | null = typeof indexedDB === 'undefined' ? null : new TrainingStore(),
  ) {
    warmup.trainingBusy = () => this.running !== null;
  }

  /** Tells the page about a run saved by an earlier visit (at start-up; the page replays it to the panel). */
  async announceSaved(): Promise<void> {
    const saved = await this.store?.load().catch(() => null);
    const r = saved?.run;
    this.post({
      channel: 'training',
      type: 'savedRun',
      run: saved && r ? { step: r.checkpoint.step, totalSteps: r.run.totalSteps, images: saved.data.items.length, savedAt: r.savedAt, finished: r.checkpoint.step >= r.run.totalSteps, setup: r.setup ?? null } : null,
    });
    // a saved run's weights can be used (or exported) at once, without resuming it
    this.post({ channel: 'models', type: 'trained', available: !!saved || this.session !== null });
  }

  private requireIdle(what: string): void {
    if (this.running) throw new Error(`stop training before ${what}`);
  }

  /** Posts decoding progress at most every PROGRESS_INTERVAL_MS, yielding so messages get through. */
  private progress(): (done: number, total: number) => Promise<void> {
    let lastPost = 0;
    return async (done, total) => {
      if (performance.now() - lastPost < PROGRESS_INTERVAL_MS && done < total) return;
      lastPost = performance.now();
      this.post({ channel: 'training', type: 'dataProgress', done, total });
      await yieldToEvents();
    };
  }

  async addFiles(files: DataFile[]): Promise<void> {
    this.requireIdle('changing the data');
    await this.data.add(files, this.progress());
    this.postSummary();
  }

  async setOptions(options: DataOptions): Promise<void> {
    this.requireIdle('changing the data');
    await this.data.setOptions(options, this.progress());
    this.postSummary();
  }

  clearData(): void {
    this.requireIdle('changing the data');
    this.data.clear();
    this.postSummary();
  }

  private postSummary(): void {
    const summary = this.data.summary();
    this.post({ channel: 'training', type: 'data', summary }, [summary.preview.values.buffer]);
  }

  /** The model a setup trains: a new one for the data, or the shipped one to fine-tune. */
  private plan(setup: TrainSetup): { config: UNetConfig; diffusion: DiffusionConfig; init?: UNet; classes: string[]; labelMap?: number[] } {
    const { options, dataset } = this.data;
    const classNames = dataset.classNames;
    if (setup.init !== 'shipped') return { config: presetConfig(setup.init, options.size, options.channels, classNames.length), diffusion: NEW_MODEL_DIFFUSION, classes: classNames };
    const shipped = this.models.shipped;
    const c = shipped.model.config;
    if (c.imageSize !== options.size || c.inChannels !== options.channels)
      throw new Error(`fine-tuning the shipped model needs ${c.imageSize}×${c.imageSize} ${c.inChannels === 1 ? 'grey' : 'RGB'} images; the data set is ${options.size}×${options.size} ${options.channels === 1 ? 'grey' : 'RGB'}`);
    const classes = this.models.shippedClasses();
    // folders named like the shipped classes ('0'…'9') keep their class; anything else trains "no label"
    const labelMap = classNames.map((n) => (classes.includes(n) ? classes.indexOf(n) : c.numClasses));
    return { config: c, diffusion: shipped.diffusion, init: shipped.model, classes, labelMap };
  }

  async estimate(setup: TrainSetup): Promise<void> {
    const { config, diffusion } = this.plan(setup);
    this.estimateCancelled = false;
    const secondsPer1000Steps = await measureSecondsPer1000Steps(config, diffusion, trainConfigFor(setup), setup.batchSize, {
      onStep: (done, total) => this.post({ channel: 'training', type: 'estimateProgress', done, total }),
      cancelled: () => this.estimateCancelled,
    });
    this.post({ channel: 'training', type: 'estimate', secondsPer1000Steps, setup });
  }

  cancelEstimate(): void {
    this.estimateCancelled = true;
  }

  async start(setup: TrainSetup): Promise<void> {
    this.requireIdle('starting again');
    const { dataset, options } = this.data;
    if (dataset.items.length === 0) throw new Error('add some images first');
    const plan = this.plan(setup);
    const run: RunOptions = { batchSize: setup.batchSize, totalSteps: setup.totalSteps, flip: setup.flip, previewEvery: setup.previewEvery, checkpointEvery: CHECKPOINT_EVERY, labelMap: plan.labelMap };
    this.session?.dispose();
    this.meta = { classes: plan.classes, init: setup.init, setup };
    this.trainedOn = trainingImages(dataset);
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
  async resumeSaved(): Promise<void> {
    this.requireIdle('resuming');
    const saved = await this.restore(await this.store?.load());
    this.losses = saved.checkpoint.lossHistory.slice();
    for (const frame of this.film) this.post({ channel: 'training', type: 'preview', frame: { ...frame, images: frame.images.slice() }, size: frame.size, channels: frame.channels });
    await this.drive();
  }

  /** Makes the saved run the session again (weights, optimiser, data), without training. */
  private async restore(saved: { data: SavedData; run: SavedRun } | null | undefined): Promise<SavedRun> {
    if (!saved) throw new Error('there is no saved training run in this browser');
    this.data.restore(saved.data.options, saved.data.items);
    this.postSummary();
    const run = saved.run.run;
    this.session?.dispose();
    const init = saved.run.init as TrainSetup['init'];
    this.meta = { classes: init === 'shipped' ? this.models.shippedClasses() : this.data.dataset.classNames, init, setup: saved.run.setup ?? null };
    this.trainedOn = trainingImages(this.data.dataset);
    this.film = saved.run.film ?? [];
    this.latest = null;
    this.session = await TrainingSession.resume(saved.run.checkpoint, this.data.dataset, run, this.hooks(run));
    return saved.run;
  }

  /** Keep a checkpoint now (the page is going away). */
  keep(): void {
    this.session?.requestKeep();
  }

  async discardSaved(): Promise<void> {
    await this.store?.clear();
    await this.announceSaved();
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
        this.film = [...this.film, { ...frame, images: frame.images.slice(), size: imageSize, channels: inChannels }].slice(-MAX_FILM);
        this.post({ channel: 'training', type: 'preview', frame, size: imageSize, channels: inChannels }, [frame.images.buffer]);
      },
      onCheckpoint: async (checkpoint) => {
        try {
          await this.store?.saveRun({ checkpoint, run, init: this.meta.init, setup: this.meta.setup ?? undefined, film: this.film, savedAt: Date.now() });
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
    this.post({ channel: 'training', type: 'error', message: `checkpoints cannot be saved in this browser (${e instanceof Error ? e.message : String(e)}); training goes on, but a reload will lose it — export the model to keep it` });
  }

  private async drive(): Promise<void> {
    const session = this.session!;
    await this.warmup.ready(); // a GPU warm-up begun meanwhile (a model chosen) ends first
    this.post({ channel: 'models', type: 'trained', available: true });
    this.running = session.run().then((reason) => {
      this.flushProgress();
      this.running = null;
      this.post({ channel: 'training', type: 'stopped', reason });
      this.warmup.warmUp(this.models.active); // a model chosen during the run was not warmed up
    });
    await this.running;
  }

  pause(): void {
    this.session?.pause();
  }
  resume(): void {
    this.session?.resume();
  }
  stop(): void {
    this.session?.stop();
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
    const metadata = {
      description: `Trained in the DDPM Playground on ${images} images`,
      trainedSteps: session.trainer.step,
      images,
      ...(this.meta.classes.length ? { classes: this.meta.classes } : {}),
      finetunedFrom: this.meta.init === 'shipped' ? 'the shipped MNIST model' : undefined,
    };
    return { model, diffusion: session.trainer.diffusion, metadata, source: 'trained', ...(this.trainedOn ? { trainedOn: this.trainedOn } : {}) };
  }

  /** The file name an export of the snapshot gets (without extension). */
  exportName(held: HeldModel): string {
    return `ddpm-${this.data.options.size}px-step${String(held.metadata.trainedSteps)}`;
  }
}

/** A data set's images as the memorisation check reads them (the list copied: later additions are not trained on). */
function trainingImages(dataset: ImageDataset): TrainingImages {
  return { kind: 'uploads', items: dataset.items.slice(), size: dataset.size, channels: dataset.channels };
}
