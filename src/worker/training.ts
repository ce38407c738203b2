import { DATASET_LIMITS, fingerprint, folderLabel, ImageDataset, type DataOptions } from '../data/dataset';
import { decodeImageFile } from '../data/decode';
import { yieldToEvents } from '../engine/yield';
import type { UNetConfig } from '../model/config';
import type { DiffusionConfig } from '../model/io';
import { MODEL_FILE_EXTENSION, modelFromFiles, modelToFile } from '../model/model-file';
import { UNet } from '../model/model';
import { presetConfig } from '../training/presets';
import { measureSecondsPer1000Steps, TrainingSession, type RunOptions, type SessionHooks, type TrainProgress } from '../training/session';
import { TrainingStore } from '../training/store';
import { NEW_MODEL_DIFFUSION, trainConfigFor } from '../training/recipe';
import type { Engine } from './engine';
import type { DataFile, DataSummary, FromEngine, TrainSetup } from './protocol';

const PREVIEW_IMAGES = 48;
const PROGRESS_INTERVAL_MS = 100;
const CHECKPOINT_EVERY = 50;

/**
 * The training side of the worker: the person's data set (decoded here, off the main thread), the
 * training session, its IndexedDB copy, and model export/import. Talks to the page through `post`.
 */
export class TrainingController {
  private options: DataOptions = { size: 28, channels: 1, fit: 'crop' };
  private dataset = new ImageDataset(this.options);
  /** The accepted files, kept to decode again when the size or colour changes. */
  private files: DataFile[] = [];
  private seen = new Map<string, string>();
  private rejected: { name: string; reason: string }[] = [];
  private overCap = 0;
  private session: TrainingSession | null = null;
  private running: Promise<void> | null = null;
  private meta: { classes: string[]; init: TrainSetup['init'] } = { classes: [], init: 'tiny' };
  private losses: [number, number][] = [];
  private lastProgress = 0;
  private latest: TrainProgress | null = null;
  private saveFailed = false;

  constructor(
    private readonly post: (m: FromEngine, transfer?: Transferable[]) => void,
    private readonly engine: Engine,
    private readonly store: TrainingStore | null = typeof indexedDB === 'undefined' ? null : new TrainingStore(),
  ) {
    engine.trainingBusy = () => this.running !== null;
  }

  /** Tells the page about a run saved by an earlier visit. */
  async announceSaved(): Promise<void> {
    const saved = await this.store?.load().catch(() => null);
    this.post({
      type: 'savedRun',
      run: saved ? { step: saved.run.checkpoint.step, totalSteps: saved.run.run.totalSteps, images: saved.data.items.length, savedAt: saved.run.savedAt } : null,
    });
  }

  private requireIdle(what: string): void {
    if (this.running) throw new Error(`stop training before ${what}`);
  }

  async addFiles(files: DataFile[]): Promise<void> {
    this.requireIdle('changing the data');
    const room = Math.max(0, DATASET_LIMITS.maxImages - this.dataset.items.length);
    const take = files.slice(0, room);
    this.overCap += files.length - take.length;
    await this.decodeAll(take, true);
  }

  async setOptions(options: DataOptions): Promise<void> {
    this.requireIdle('changing the data');
    if (this.files.length === 0 && this.dataset.items.length > 0)
      throw new Error(`this data set was restored from a saved run at ${this.options.size}×${this.options.size}; add the files again to change its size or colour`);
    this.options = options;
    this.dataset = new ImageDataset(options);
    const files = this.files;
    this.files = [];
    await this.decodeAll(files, false);
  }

  clear(): void {
    this.requireIdle('changing the data');
    this.resetData(this.options);
    this.postSummary();
  }

  /** An empty data set with these options, and no files, duplicates or rejections remembered. */
  private resetData(options: DataOptions): void {
    this.options = options;
    this.dataset = new ImageDataset(options);
    this.files = [];
    this.seen.clear();
    this.rejected = [];
    this.overCap = 0;
  }

  private async decodeAll(files: DataFile[], checkDuplicates: boolean): Promise<void> {
    let lastPost = 0;
    for (let i = 0; i < files.length; i++) {
      const f = files[i];
      try {
        if (checkDuplicates && f.file.size <= DATASET_LIMITS.maxFileBytes) {
          const key = fingerprint(new Uint8Array(await f.file.arrayBuffer()));
          const first = this.seen.get(key);
          if (first !== undefined) throw new Error(`a duplicate of ${first}; it is used once`);
          this.seen.set(key, f.path);
        }
        const pixels = await decodeImageFile(f.file, this.options);
        this.dataset.add({ name: f.path, label: folderLabel(f.path), pixels });
        this.files.push(f);
      } catch (e) {
        this.rejected.push({ name: f.path, reason: e instanceof Error ? e.message : String(e) });
      }
      if (performance.now() - lastPost > PROGRESS_INTERVAL_MS || i === files.length - 1) {
        lastPost = performance.now();
        this.post({ type: 'dataProgress', done: i + 1, total: files.length });
        await yieldToEvents();
      }
    }
    this.postSummary();
  }

  private postSummary(): void {
    const { size, channels } = this.options;
    const n = Math.min(PREVIEW_IMAGES, this.dataset.items.length);
    const per = size * size * channels;
    const values = new Float32Array(n * per);
    for (let i = 0; i < n; i++) values.set(Float32Array.from(this.dataset.items[i].pixels, (v) => (v / 255) * 2 - 1), i * per);
    const summary: DataSummary = {
      options: this.options,
      count: this.dataset.items.length,
      classNames: this.dataset.classNames,
      counts: this.dataset.counts(),
      rejected: this.rejected.slice(),
      overCap: this.overCap,
      preview: { values, batch: n, size, channels },
    };
    this.post({ type: 'data', summary }, [values.buffer]);
  }

  /** The model a setup trains: a new one for the data, or the shipped one to fine-tune. */
  private plan(setup: TrainSetup): { config: UNetConfig; diffusion: DiffusionConfig; init?: UNet; classes: string[]; labelMap?: number[] } {
    const classNames = this.dataset.classNames;
    if (setup.init !== 'shipped') return { config: presetConfig(setup.init, this.options.size, this.options.channels, classNames.length), diffusion: NEW_MODEL_DIFFUSION, classes: classNames };
    const shipped = this.engine.shippedModel!;
    const c = shipped.model.config;
    if (c.imageSize !== this.options.size || c.inChannels !== this.options.channels)
      throw new Error(`fine-tuning the shipped model needs ${c.imageSize}×${c.imageSize} ${c.inChannels === 1 ? 'grey' : 'RGB'} images; the data set is ${this.options.size}×${this.options.size} ${this.options.channels === 1 ? 'grey' : 'RGB'}`);
    const classes = this.shippedClasses();
    // folders named like the shipped classes ('0'…'9') keep their class; anything else trains "no label"
    const labelMap = classNames.map((n) => (classes.includes(n) ? classes.indexOf(n) : c.numClasses));
    return { config: c, diffusion: shipped.diffusion, init: shipped.model, classes, labelMap };
  }

  /** The shipped model's class names (its metadata's, else '0', '1', …). */
  private shippedClasses(): string[] {
    const { info, model } = this.engine.shippedModel!;
    return (info.metadata.classes as string[] | undefined) ?? Array.from({ length: model.config.numClasses }, (_, i) => String(i));
  }

  async estimate(setup: TrainSetup): Promise<void> {
    const { config, diffusion } = this.plan(setup);
    const secondsPer1000Steps = await measureSecondsPer1000Steps(config, diffusion, trainConfigFor(setup), setup.batchSize);
    this.post({ type: 'trainEstimate', secondsPer1000Steps, setup });
  }

  async start(setup: TrainSetup): Promise<void> {
    this.requireIdle('starting again');
    if (this.dataset.items.length === 0) throw new Error('add some images first');
    const plan = this.plan(setup);
    const run: RunOptions = { batchSize: setup.batchSize, totalSteps: setup.totalSteps, flip: setup.flip, previewEvery: setup.previewEvery, checkpointEvery: CHECKPOINT_EVERY, labelMap: plan.labelMap };
    this.session?.dispose();
    this.meta = { classes: plan.classes, init: setup.init };
    this.session = TrainingSession.create(plan.config, plan.diffusion, trainConfigFor(setup), this.dataset, run, this.hooks(run), plan.init);
    this.losses = [];
    this.saveFailed = false;
    try {
      await this.store?.clear();
      await this.store?.saveData({ options: this.options, items: this.dataset.items });
    } catch (e) {
      this.reportSaveFailure(e);
    }
    await this.drive();
  }

  /** Continues the run saved in IndexedDB (after a reload), with its data set. */
  async resumeSaved(): Promise<void> {
    this.requireIdle('resuming');
    const saved = await this.store?.load();
    if (!saved) throw new Error('there is no saved training run in this browser');
    this.resetData(saved.data.options);
    for (const item of saved.data.items) this.dataset.add(item);
    this.postSummary();
    const run = saved.run.run;
    this.session?.dispose();
    const init = saved.run.init as TrainSetup['init'];
    this.meta = { classes: init === 'shipped' ? this.shippedClasses() : this.dataset.classNames, init };
    this.session = await TrainingSession.resume(saved.run.checkpoint, this.dataset, run, this.hooks(run));
    this.losses = saved.run.checkpoint.lossHistory.slice();
    await this.drive();
  }

  async discardSaved(): Promise<void> {
    await this.store?.clear();
    await this.announceSaved();
  }

  private hooks(run: RunOptions): SessionHooks {
    return {
      onStep: (result, progress) => {
        this.losses.push([result.step, result.loss]);
        this.latest = progress;
        const now = performance.now();
        if (now - this.lastProgress >= PROGRESS_INTERVAL_MS || result.step === run.totalSteps) {
          this.lastProgress = now;
          this.post({ type: 'trainProgress', progress, losses: this.losses });
          this.losses = [];
        }
      },
      onPreview: (frame) => {
        const { imageSize, inChannels } = this.session!.trainer.model.config;
        this.post({ type: 'trainPreview', frame, size: imageSize, channels: inChannels }, [frame.images.buffer]);
      },
      onCheckpoint: async (checkpoint) => {
        try {
          await this.store?.saveRun({ checkpoint, run, init: this.meta.init, savedAt: Date.now() });
        } catch (e) {
          this.reportSaveFailure(e);
        }
      },
    };
  }

  private reportSaveFailure(e: unknown): void {
    if (this.saveFailed) return;
    this.saveFailed = true;
    this.post({ type: 'trainError', message: `checkpoints cannot be saved in this browser (${e instanceof Error ? e.message : String(e)}); training goes on, but a reload will lose it — export the model to keep it` });
  }

  private async drive(): Promise<void> {
    const session = this.session!;
    await this.engine.gpuReady(); // a GPU warm-up begun meanwhile (a model chosen) ends first
    this.post({ type: 'trainState', state: 'running', step: session.trainer.step });
    this.running = session.run().then((reason) => {
      if (this.losses.length && this.latest) this.post({ type: 'trainProgress', progress: this.latest, losses: this.losses });
      this.losses = [];
      this.running = null;
      this.post({ type: 'trainStopped', reason });
      this.post({ type: 'trainState', state: 'idle', step: session.trainer.step });
      this.engine.warmUpActive(); // a model chosen during the run was not warmed up
    });
    await this.running;
  }

  pause(): void {
    this.session?.pause();
    if (this.session?.state === 'paused') this.post({ type: 'trainState', state: 'paused', step: this.session.trainer.step });
  }
  resume(): void {
    this.session?.resume();
    if (this.session?.state === 'running') this.post({ type: 'trainState', state: 'running', step: this.session.trainer.step });
  }
  stop(): void {
    this.session?.stop();
  }

  /** The trained model's EMA weights as a model of their own (the session trains on). */
  private snapshot(): { model: UNet; diffusion: DiffusionConfig; metadata: Record<string, unknown> } {
    const session = this.session;
    if (!session) throw new Error('train a model first (or import one)');
    const source = session.samplingModel;
    const model = UNet.create(source.config);
    source.copyTo(model);
    const metadata = {
      description: `Trained in the DDPM Playground on ${this.dataset.items.length} images`,
      trainedSteps: session.trainer.step,
      images: this.dataset.items.length,
      ...(this.meta.classes.length ? { classes: this.meta.classes } : {}),
      finetunedFrom: this.meta.init === 'shipped' ? 'the shipped MNIST model' : undefined,
    };
    return { model, diffusion: session.trainer.diffusion, metadata };
  }

  useTrained(): void {
    this.engine.setActiveModel({ ...this.snapshot(), source: 'trained' });
  }

  async exportModel(): Promise<void> {
    const { model, diffusion, metadata } = this.snapshot();
    try {
      const blob = await modelToFile(model, diffusion, metadata);
      const data = await blob.arrayBuffer();
      this.post({ type: 'modelFile', data, name: `ddpm-${this.options.size}px-step${metadata.trainedSteps}${MODEL_FILE_EXTENSION}` }, [data]);
    } finally {
      model.dispose();
    }
  }

  async importModel(files: File[]): Promise<void> {
    const loaded = await modelFromFiles(files);
    this.engine.setActiveModel({ ...loaded, source: 'imported' });
  }
}
