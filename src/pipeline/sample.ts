import * as tf from '@tensorflow/tfjs';
import { DDIMScheduler, DDPMScheduler, GaussianRng, toX0AndEpsilon } from '../diffusion';
import type { DiffusionConfig } from '../model/io';
import type { UNet } from '../model/model';

/**
 * The pipeline: the only place the model and a scheduler meet. It is just the unrolled reverse
 * process — predict the noise, step the scheduler — as a generator, so a caller can run, pause or
 * single-step it and look at every intermediate image.
 */
export type SamplerName = 'ddpm' | 'ddim';

export interface SampleOptions {
  /** 'ddpm': ancestral sampling, one step per train timestep (Algorithm 2). 'ddim': `steps` steps. */
  sampler: SamplerName;
  /** DDIM only: number of inference steps (default 50). */
  steps?: number;
  /** DDIM only: η, 0 = deterministic (default 0). */
  eta?: number;
  /** How many images. */
  batch: number;
  /** Class per image for a conditional model (null = unconditional); ignored by unconditional models. */
  labels?: (number | null)[];
  /** Classifier-free guidance scale s: ε = ε_uncond + s (ε_cond − ε_uncond); 1 = plain conditional. */
  guidance?: number;
  /** Same seed → same noise → same trajectory. */
  seed: number;
  /** Start from this x_t (e.g. "denoise from here") at timestep `startTimestep` instead of pure noise. */
  init?: { sample: tf.Tensor; timestep: number };
}

/** One reverse step's images. The tensors belong to the generator: read them before asking for the next step. */
export interface SampleStep {
  /** 0-based position in this run, and how many steps it has. */
  index: number;
  total: number;
  /** The 0-based timestep just denoised (the page shows t+1). */
  t: number;
  /** x_{t−1}, the sample after this step. */
  sample: tf.Tensor;
  /** x̂0, the model's guess of the clean image at this step. */
  predOriginalSample: tf.Tensor;
  /** ε̂, the (guided) noise the model predicts in x_t. */
  predNoise: tf.Tensor;
}

export function makeScheduler(diffusion: DiffusionConfig, sampler: SamplerName): DDPMScheduler | DDIMScheduler {
  const config = { ...diffusion, clipSample: true };
  return sampler === 'ddpm' ? new DDPMScheduler(config) : new DDIMScheduler(config);
}

/** The timesteps a run visits, for a sampler (and a start timestep for "denoise from here"). */
export function runTimesteps(diffusion: DiffusionConfig, options: Pick<SampleOptions, 'sampler' | 'steps'>, startTimestep?: number): number[] {
  const s = makeScheduler(diffusion, options.sampler);
  if (s instanceof DDIMScheduler) s.setTimesteps(options.steps ?? 50);
  return startTimestep === undefined ? s.timesteps : s.timesteps.filter((t) => t <= startTimestep);
}

/** The model output for a batch, with classifier-free guidance when the model is conditional and s ≠ 1. */
export function guidedNoise(model: UNet, x: tf.Tensor, t: number, labels: (number | null)[] | undefined, guidance: number): tf.Tensor {
  return tf.tidy(() => {
    const b = x.shape[0];
    const ts = tf.fill([b], t) as tf.Tensor1D;
    const nc = model.config.numClasses;
    if (nc === 0) return model.predict(x, ts);
    const cond = tf.tensor1d(Array.from({ length: b }, (_, i) => labels?.[i] ?? nc), 'int32');
    if (guidance === 1 || !labels?.some((l) => l !== null)) return model.predict(x, ts, { labels: cond });
    // one batched pass: [x, x] with [labels, "no label"]
    const both = model.predict(tf.concat([x, x]), tf.concat([ts, ts]), { labels: tf.concat([cond, tf.fill([b], nc, 'int32') as tf.Tensor1D]) });
    const [epsCond, epsUncond] = tf.split(both, 2);
    return tf.add(epsUncond, tf.mul(guidance, tf.sub(epsCond, epsUncond)));
  });
}

/**
 * Runs the reverse process, yielding after every step. Frees each step's tensors when the next is
 * requested and everything at the end (or when the caller stops early with return()).
 */
export function* sample(model: UNet, diffusion: DiffusionConfig, options: SampleOptions): Generator<SampleStep, void, void> {
  const { imageSize: size, inChannels } = model.config;
  const shape = [options.batch, size, size, inChannels];
  const rng = new GaussianRng(options.seed);
  const scheduler = makeScheduler(diffusion, options.sampler);
  if (scheduler instanceof DDIMScheduler) scheduler.setTimesteps(options.steps ?? 50);
  const timesteps = options.init ? scheduler.timesteps.filter((t) => t <= options.init!.timestep) : scheduler.timesteps;
  let x = options.init ? options.init.sample.clone() : rng.randn(shape); // x_T ~ N(0, I)
  let previous: tf.Tensor[] = [];
  try {
    for (let i = 0; i < timesteps.length; i++) {
      const t = timesteps[i];
      const modelOutput = guidedNoise(model, x, t, options.labels, options.guidance ?? 1);
      const out =
        scheduler instanceof DDPMScheduler
          ? scheduler.step(modelOutput, t, x, rng)
          : scheduler.step(modelOutput, t, x, { eta: options.eta ?? 0, noise: rng });
      // ε̂ for display, whatever the model predicts
      let predNoise = modelOutput;
      if (diffusion.predictionType !== 'epsilon') {
        const { x0, eps } = toX0AndEpsilon(modelOutput, x, scheduler.schedule.alphasCumprod[t], diffusion.predictionType);
        tf.dispose([x0, modelOutput]);
        predNoise = eps;
      }
      tf.dispose(previous);
      x.dispose();
      x = out.prevSample;
      previous = [out.predOriginalSample, predNoise];
      yield { index: i, total: timesteps.length, t, sample: x, predOriginalSample: out.predOriginalSample, predNoise };
    }
  } finally {
    tf.dispose([...previous, x]);
  }
}
