import * as tf from '@tensorflow/tfjs';
import { explainFailure } from '../engine/failures';
import { DigitMeter } from './meter';
import type { HeldModel } from './models';
import { SAMPLE_BATCHES, type EngineEvent } from './protocol';
import { samplingShapes, warmUpSampling } from './warmup';

const WARMUP_POST_INTERVAL_MS = 100;

/**
 * The worker's side of the GPU kernel warm-up (WebGPU only): compiles the sampling pipelines of each
 * model the panels run on, once per configuration, and keeps every other tfjs user waiting until it
 * ends (see ready()). Progress goes to the page as 'engine/warmup'.
 */
export class KernelWarmup {
  /** The warm-up in progress; tfjs work waits for it. */
  private warming: Promise<void> = Promise.resolve();
  /** The configurations whose sampling pipelines are compiled already (pipelines depend on shapes, not weights). */
  private readonly warmed = new Set<string>();
  /**
   * True while a training run is live (running or paused). No warm-up then: its programs would meet
   * pipelines still compiling; the training service calls warmUp again when the run ends.
   */
  trainingBusy: () => boolean = () => false;
  /** The meter, whose classifier runs with sampling on the models it fits: its kernels are warmed up too. */
  meter: DigitMeter | null = null;

  constructor(private readonly post: (m: EngineEvent) => void) {}

  /**
   * Resolves once no warm-up is running (at once off WebGPU). Anything that runs tfjs ops awaits it
   * first: while pipelines compile, a program that needs one of them would throw.
   */
  async ready(): Promise<void> {
    for (let w = this.warming; ; w = this.warming) {
      await w;
      if (w === this.warming) return;
    }
  }

  /** Compiles the pipelines of every sampling shape the page offers for this model, queued behind any warm-up in progress. */
  warmUp({ model, diffusion }: HeldModel): void {
    const key = JSON.stringify([model.config, diffusion.predictionType]);
    if (tf.getBackend() !== 'webgpu' || this.warmed.has(key) || this.trainingBusy()) return;
    this.warmed.add(key);
    this.warming = this.warming.then(async () => {
      if (!model.weights.size) {
        // disposed while it waited (another model was chosen): nothing was compiled for it
        this.warmed.delete(key);
        return this.post({ channel: 'engine', type: 'warmup', done: 0, total: 0, finished: true });
      }
      let lastPost = -Infinity;
      const progress = (done: number, total: number | null) => {
        const now = performance.now();
        if (total !== null && done > 0 && done < total && now - lastPost < WARMUP_POST_INTERVAL_MS) return;
        lastPost = now;
        this.post({ channel: 'engine', type: 'warmup', done, total, finished: false });
      };
      let pipelines = 0;
      try {
        const meter = this.meter && DigitMeter.fits(model.config) ? this.meter : null;
        await meter?.load(); // warm() needs the classifier itself
        pipelines = (await warmUpSampling(model, diffusion, samplingShapes(model, SAMPLE_BATCHES), progress, meter ? (x0) => meter.warm(x0) : undefined))?.pipelines ?? 0;
      } catch (e) {
        // not fatal: the first run compiles what is missing, as without a warm-up
        this.warmed.delete(key);
        this.post({ channel: 'engine', type: 'error', message: `preparing the GPU kernels failed: ${explainFailure(e)}` });
      }
      this.post({ channel: 'engine', type: 'warmup', done: pipelines, total: pipelines, finished: true });
    });
  }
}
