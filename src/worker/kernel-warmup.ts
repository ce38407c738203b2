import * as tf from '@tensorflow/tfjs';
import { explainFailure } from '../engine/failures';
import { SAMPLE_BATCHES } from '../protocol';
import type { DeviceGate } from './device-gate';
import type { Meters } from './meter';
import type { HeldModel, ModelRegistry } from './model-registry';
import type { Post } from './service';
import { samplingShapes, warmUpSampling } from './warmup';

const WARMUP_POST_INTERVAL_MS = 100;

/**
 * The worker's side of the GPU kernel warm-up (WebGPU only): compiles the sampling pipelines of each
 * model the panels run on, once per configuration, as an exclusive job of the device gate (every
 * other tfjs user waits for it). A model chosen while training holds the device is warmed up when
 * training lets go. Progress goes to the page as 'engine/warmup'.
 */
export class KernelWarmup {
  /** The configurations whose sampling pipelines are compiled already (pipelines depend on shapes, not weights). */
  private readonly warmed = new Set<string>();

  constructor(
    private readonly post: Post<'engine'>,
    private readonly device: DeviceGate,
    /** The meter's classifier runs with sampling on the models it fits: its kernels are warmed up too. */
    private readonly meter: Meters,
    models: ModelRegistry,
  ) {
    models.onActivate.add((m) => this.warmUp(m));
    device.onRelease.add(() => this.warmUp(models.active));
  }

  /** Compiles the pipelines of every sampling shape the page offers for this model, queued behind any warm-up in progress. */
  private warmUp({ model, diffusion }: HeldModel): void {
    const key = JSON.stringify([model.config, diffusion.predictionType]);
    if (tf.getBackend() !== 'webgpu' || this.warmed.has(key)) return;
    const queued = this.device.runExclusive(async () => {
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
        const meter = this.meter.for(model.config);
        await meter?.load(); // warm() needs the classifier itself
        const shapes = samplingShapes(model, SAMPLE_BATCHES);
        pipelines = (await warmUpSampling(model, diffusion, shapes, progress, meter ? (x0) => meter.warm(x0) : undefined))?.pipelines ?? 0;
      } catch (e) {
        // not fatal: the first run compiles what is missing, as without a warm-up
        this.warmed.delete(key);
        this.post({ channel: 'engine', type: 'error', message: `preparing the GPU kernels failed: ${explainFailure(e)}` });
      }
      this.post({ channel: 'engine', type: 'warmup', done: pipelines, total: pipelines, finished: true });
    });
    if (queued) this.warmed.add(key);
  }
}
