import * as tf from '@tensorflow/tfjs';
import {
  DDIMScheduler,
  DDPMScheduler,
  DPMSolverMultistepScheduler,
  GaussianRng,
  toX0AndEpsilon,
  type DiffusionConfig,
  type Scheduler,
  type Timestep,
} from '../diffusion';
import type { UNet } from '../model/model';
import { runSteps, type SamplerName } from './defaults';

/**
 * The pipeline: the only place the model and a scheduler meet. It is just the unrolled reverse
 * process — predict the noise, step the scheduler — as a generator, so a caller can run, pause or
 * single-step it and look at every intermediate image.
 */
export interface SampleOptions {
  /** 'ddpm': ancestral sampling, one step per train timestep (Algorithm 2); 'ddim', 'dpm-solver++': `steps` steps. */
  sampler: SamplerName;
  /** Few-step samplers only: number of inference steps (default: the sampler's, SAMPLERS). */
  steps?: number;
  /** DDIM only: η, 0 = deterministic (default 0). */
  eta?: number;
  /** How many images. */
  batch: number;
  /** Class per image for a conditional model (null = unconditional); ignored by unconditional models. */
  labels?: (number | null)[];
  /**
   * Classifier-free guidance scale s: ε = ε_uncond + s (ε_cond − ε_uncond); 1 = plain conditional. An
   * array gives each image its own s (the guidance strip: one batched run of the same noise).
   */
  guidance?: number | number[];
  /** Every image starts from the same x_T and gets the same z at every step (compare settings, not noise). */
  sharedNoise?: boolean;
  /** Same seed → same noise → same trajectory. */
  seed: number;
  /** Start from this x_t at timestep `timestep` ("denoise from here") instead of pure noise: the run visits the timesteps ≤ it. */
  init?: { sample: tf.Tensor; timestep: Timestep };
}

/** One reverse step's images. The tensors belong to the generator: read them before asking for the next step. */
export interface SampleStep {
  /** 0-based position in this run, and how many steps it has. */
  index: number;
  total: number;
  /** The timestep just denoised. */
  t: Timestep;
  /** The sample after this step (x_{t−1} for DDPM). */
  sample: tf.Tensor;
  /** x̂0, the model's guess of the clean image at this step. */
  predOriginalSample: tf.Tensor;
  /** ε̂, the (guided) noise the model predicts in x_t. */
  predNoise: tf.Tensor;
}

const SCHEDULERS: Record<SamplerName, (config: DiffusionConfig & { clipSample: boolean }) => Scheduler> = {
  ddpm: (c) => new DDPMScheduler(c),
  // ε̂ recomputed from the clipped x̂0 (Glide; diffusers' use_clipped_model_output): with η = 0 the
  // step is x_prev = √ᾱ_prev x̂0 + √(1 − ᾱ_prev) ε̂, and guidance's extrapolated ε̂ (s > 1) no longer agrees
  // with the clipped x̂0, so every step adds the excess back and the digits swell into blobs.
  ddim: (c) => new DDIMScheduler({ ...c, useClippedModelOutput: true }),
  'dpm-solver++': (c) => new DPMSolverMultistepScheduler(c),
};

/** The scheduler a run uses, its timesteps set: x̂0 is clipped to the data range [−1, 1] on every sampler. */
export function makeScheduler(diffusion: DiffusionConfig, options: Pick<SampleOptions, 'sampler' | 'steps'>): Scheduler {
  const scheduler = SCHEDULERS[options.sampler]({ ...diffusion, clipSample: true });
  scheduler.setTimesteps(runSteps(options.sampler, options.steps, diffusion.numTrainTimesteps));
  return scheduler;
}

/** The timesteps a run visits: all of the scheduler's, or from `startTimestep` down ("denoise from here"). */
export function runTimesteps(scheduler: Scheduler, startTimestep?: Timestep): readonly Timestep[] {
  return startTimestep === undefined ? scheduler.timesteps : scheduler.timesteps.filter((t) => t <= startTimestep);
}

/** The model output for a batch, with classifier-free guidance when the model is conditional and s ≠ 1 (one s, or one per image). */
export function guidedNoise(
  model: UNet,
  x: tf.Tensor,
  t: Timestep,
  labels: (number | null)[] | undefined,
  guidance: number | number[],
): tf.Tensor {
  return tf.tidy(() => {
    const b = x.shape[0];
    const ts = tf.fill<tf.Rank.R1>([b], t);
    const nc = model.config.numClasses;
    if (nc === 0) return model.predict(x, ts);
    const cond = tf.tensor1d(
      Array.from({ length: b }, (_, i) => labels?.[i] ?? nc),
      'int32',
    );
    const plain = Array.isArray(guidance) ? guidance.every((g) => g === 1) : guidance === 1;
    if (plain || !labels?.some((l) => l !== null)) return model.predict(x, ts, { labels: cond });
    // one batched pass: [x, x] with [labels, "no label"]
    const both = model.predict(tf.concat([x, x]), tf.concat([ts, ts]), {
      labels: tf.concat([cond, tf.fill<tf.Rank.R1>([b], nc, 'int32')]),
    });
    const [epsCond, epsUncond] = tf.split(both, 2);
    const s = Array.isArray(guidance) ? tf.tensor4d(guidance, [b, 1, 1, 1]) : guidance;
    return tf.add(epsUncond, tf.mul(s, tf.sub(epsCond, epsUncond)));
  });
}

/**
 * Runs the reverse process, yielding after every step. Frees each step's tensors when the next is
 * requested and everything at the end (or when the caller stops early with return()).
 */
export function* sample(model: UNet, diffusion: DiffusionConfig, options: SampleOptions): Generator<SampleStep, void, void> {
  const { imageSize: size, inChannels } = model.config;
  const rng = new GaussianRng(options.seed);
  const scheduler = makeScheduler(diffusion, options);
  const timesteps = runTimesteps(scheduler, options.init?.timestep);
  const one = [1, size, size, inChannels];
  /** N(0, I) noise for the batch: independent per image, or one draw repeated (sharedNoise). */
  const noiseLike = () =>
    options.sharedNoise ? tf.tidy(() => tf.tile(rng.randn(one), [options.batch, 1, 1, 1])) : rng.randn([options.batch, ...one.slice(1)]);
  let x = options.init ? options.init.sample.clone() : noiseLike(); // x_T ~ N(0, I)
  let previous: tf.Tensor[] = [];
  try {
    for (let i = 0; i < timesteps.length; i++) {
      const t = timesteps[i];
      const modelOutput = guidedNoise(model, x, t, options.labels, options.guidance ?? 1);
      const z = options.sharedNoise ? noiseLike() : null;
      const out = scheduler.step(modelOutput, t, x, { eta: options.eta ?? 0, noise: z ?? rng });
      z?.dispose();
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
    scheduler.reset();
  }
}
