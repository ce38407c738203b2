import * as tf from '@tensorflow/tfjs';
import { explainFailure } from '../engine/failures';
import { selectBackend } from '../engine/backend';
import { KernelWarmup } from './kernel-warmup';
import { MemorisationService } from './memorisation';
import { DigitMeter } from './meter';
import { ModelRegistry } from './models';
import type { EngineRequest, FromEngine, MemorisationRequest, ModelsRequest, SamplingRequest, ToEngine, TrainingRequest } from './protocol';
import { SamplingService } from './sampling';
import { TrainingService } from './training';

/**
 * The engine behind the worker: four services — the model registry, the sampling run, the
 * training service and the memorisation check — and the GPU warm-up they share, wired together and driven by the page's
 * messages, each routed by its channel. Pure logic with a `post` callback, so it runs without a
 * Worker too.
 */
export class Engine {
  private readonly warmup: KernelWarmup;
  private readonly models: ModelRegistry;
  private readonly sampling: SamplingService;
  private readonly training: TrainingService;
  private readonly memorisation: MemorisationService;

  constructor(private readonly post: (m: FromEngine, transfer?: Transferable[]) => void) {
    this.warmup = new KernelWarmup(post);
    this.models = new ModelRegistry(post);
    this.sampling = new SamplingService(post, this.models, this.warmup);
    this.training = new TrainingService(post, this.models, this.warmup);
    this.memorisation = new MemorisationService(post, this.models);
    this.models.onActivate.add((m) => this.warmup.warmUp(m));
  }

  /** Handles one message; a failure is reported on the message's own channel. */
  async handle(msg: ToEngine): Promise<void> {
    try {
      switch (msg.channel) {
        case 'engine':
          return await this.init(msg);
        case 'sampling':
          return await this.onSampling(msg);
        case 'training':
          return await this.onTraining(msg);
        case 'models':
          return await this.onModels(msg);
        case 'memorisation':
          return await this.onMemorisation(msg);
      }
    } catch (err) {
      this.post({ channel: msg.channel, type: 'error', message: explainFailure(err) });
    }
  }

  private async init({ modelUrl, backend, classifierUrl, trainDigitsUrl }: EngineRequest): Promise<void> {
    const report = await selectBackend(backend);
    if (report.backend === 'webgpu') {
      // say so at once, even when idle, rather than failing on the next click
      void (tf.backend() as unknown as { device: GPUDevice }).device.lost.then((info) =>
        this.post({ channel: 'engine', type: 'error', message: explainFailure(new Error(`GPU device lost: ${info.message}`)) }),
      );
    }
    if (classifierUrl) {
      // the meter's classifier (400 kB) loads alongside the shipped model; the GPU warm-up waits for it
      // and compiles its kernels with sampling's
      const meter = new DigitMeter(classifierUrl);
      void meter.load();
      this.sampling.meter = meter;
      this.warmup.meter = meter;
      this.memorisation.meter = meter;
    }
    const warning = await this.models.loadShipped(modelUrl, trainDigitsUrl);
    this.post({ channel: 'engine', type: 'ready', report, warning });
    await this.training.announceSaved();
  }

  private async onSampling(msg: SamplingRequest): Promise<void> {
    switch (msg.type) {
      case 'start':
        return await this.sampling.start(msg.run, msg.settings, msg.from, msg.guidances);
      case 'compare':
        return await this.sampling.compare(msg.run, msg.settings);
      case 'pause':
        return this.sampling.pause();
      case 'resume':
        return this.sampling.resume();
      case 'step':
        return this.sampling.step();
      case 'stop':
        return this.sampling.stop();
      case 'speed':
        return this.sampling.setSpeed(msg.delayMs);
    }
  }

  private async onTraining(msg: TrainingRequest): Promise<void> {
    // work that runs tfjs ops waits for the GPU kernel warm-up
    if (msg.type === 'estimate' || msg.type === 'start' || msg.type === 'resumeSaved') await this.warmup.ready();
    switch (msg.type) {
      case 'addFiles':
        return await this.training.addFiles(msg.files);
      case 'dataOptions':
        return await this.training.setOptions(msg.options);
      case 'clearData':
        return this.training.clearData();
      case 'estimate':
        return await this.training.estimate(msg.setup);
      case 'start':
        return await this.training.start(msg.setup);
      case 'resumeSaved':
        return await this.training.resumeSaved();
      case 'discardSaved':
        return await this.training.discardSaved();
      case 'pause':
        return this.training.pause();
      case 'resume':
        return this.training.resume();
      case 'stop':
        return this.training.stop();
      case 'keep':
        return this.training.keep();
      case 'cancelEstimate':
        return this.training.cancelEstimate();
    }
  }

  private async onMemorisation(msg: MemorisationRequest): Promise<void> {
    await this.warmup.ready();
    switch (msg.type) {
      case 'check':
        return await this.memorisation.check(msg.request, msg.images);
      case 'checkFile':
        return await this.memorisation.checkFile(msg.request, msg.file);
    }
  }

  private async onModels(msg: ModelsRequest): Promise<void> {
    await this.warmup.ready();
    switch (msg.type) {
      case 'use':
        return this.models.activate(msg.which === 'trained' ? await this.training.snapshot() : null);
      case 'export': {
        const snapshot = await this.training.snapshot();
        return await this.models.export(snapshot, this.training.exportName(snapshot));
      }
      case 'import':
        return await this.models.import(msg.files);
    }
  }
}
