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
import { isTextUNet } from '../model/config';
import type { UNet } from '../model/model';
import { runSteps, type SamplerName } from './defaults';
import { TextCondition } from './text-condition';

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
  /** A text model's prompt per image (absent: the empty prompt, "anything"). */
  prompts?: string[];
  /** A text model: guidance steers away from this prompt instead of from the empty one. */
  negativePrompt?: string;
  /** A text model: other prompts (one per image) that take over at timestep `at` — every step with t ≤ at uses them. */
  promptSwitch?: { prompts: string[]; at: Timestep };
  /** A text model: every step also yields its cross-attention maps (SampleStep.attention). */
  attentionMaps?: boolean;
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
  /** The timestep `sample` is at: the next one the run visits, or null after the last step (the clean image x0). */
  at: Timestep | null;
  /** The first step only: the image the run started from, x_T at the first timestep, or `init` at its own. */
  start?: { sample: tf.Tensor; at: Timestep };
  /** x̂0, the model's guess of the clean image at this step. */
  predOriginalSample: tf.Tensor;
  /** ε̂, the (guided) noise the model predicts in x_t. */
  predNoise: tf.Tensor;
  /** With attentionMaps: [B, H, W, L], how much each pixel attended to each token (the prompt's, not the negative's). */
  attention?: tf.Tensor;
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

/** What a model is conditioned on: class labels (one per image, null = none), or a text model's encoded prompts. */
export type Condition = (number | null)[] | TextCondition | undefined;

/**
 * The model output for a batch, with classifier-free guidance when the model is conditional and
 * s ≠ 1 (one s, or one per image): ε = ε_uncond + s (ε_cond − ε_uncond). With `maps`, a text model's
 * attention maps for the prompts are pushed there (the caller owns them).
 */
export function guidedNoise(
  model: UNet,
  x: tf.Tensor,
  t: Timestep,
  condition: Condition,
  guidance: number | number[],
  maps?: tf.Tensor[],
): tf.Tensor {
  return tf.tidy(() => {
    const b = x.shape[0];
    const ts = tf.fill<tf.Rank.R1>([b], t);
    const plain = Array.isArray(guidance) ? guidance.every((g) => g === 1) : guidance === 1;
    const guide = (both: tf.Tensor) => {
      const [epsCond, epsUncond] = tf.split(both, 2);
      const s = Array.isArray(guidance) ? tf.tensor4d(guidance, [b, 1, 1, 1]) : guidance;
      return tf.add(epsUncond, tf.mul(s, tf.sub(epsCond, epsUncond)));
    };
    if (condition instanceof TextCondition) {
      if (plain) return model.predict(x, ts, { text: condition.cond, attentionMaps: maps });
      const collected: tf.Tensor[] = [];
      const both = model.predict(tf.concat([x, x]), tf.concat([ts, ts]), { text: condition.pair, attentionMaps: maps && collected });
      // the prompts' half of the maps
      for (const m of collected) maps!.push(tf.keep(tf.slice(m, 0, b)));
      tf.dispose(collected);
      return guide(both);
    }
    const labels = condition;
    const nc = model.config.numClasses;
    if (nc === 0) return model.predict(x, ts);
    const cond = tf.tensor1d(
      Array.from({ length: b }, (_, i) => labels?.[i] ?? nc),
      'int32',
    );
    if (plain || !labels?.some((l) => l !== null)) return model.predict(x, ts, { labels: cond });
    // one batched pass: [x, x] with [labels, "no label"]
    return guide(
      model.predict(tf.concat([x, x]), tf.concat([ts, ts]), {
        labels: tf.concat([cond, tf.fill<tf.Rank.R1>([b], nc, 'int32')]),
      }),
    );
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
  const text = isTextUNet(model.config);
  const prompts = (ps: string[] | undefined) =>
    new TextCondition(model, ps ?? new Array<string>(options.batch).fill(''), options.negativePrompt);
  const first = text ? prompts(options.prompts) : null;
  const second = text && options.promptSwitch ? prompts(options.promptSwitch.prompts) : null;
  let x = options.init ? options.init.sample.clone() : noiseLike(); // x_T ~ N(0, I)
  let previous: tf.Tensor[] = [];
  try {
    for (let i = 0; i < timesteps.length; i++) {
      const t = timesteps[i];
      const condition = second && t <= options.promptSwitch!.at ? second : (first ?? options.labels);
      const maps: tf.Tensor[] | undefined = text && options.attentionMaps ? [] : undefined;
      const modelOutput = guidedNoise(model, x, t, condition, options.guidance ?? 1, maps);
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
      // the starting image is yielded with the first step, and freed with it
      const start = i === 0 ? { sample: x, at: options.init?.timestep ?? t } : undefined;
      if (!start) x.dispose();
      x = out.prevSample;
      previous = [out.predOriginalSample, predNoise, ...(maps ?? []), ...(start ? [start.sample] : [])];
      yield {
        index: i,
        total: timesteps.length,
        t,
        sample: x,
        at: timesteps[i + 1] ?? null,
        start,
        predOriginalSample: out.predOriginalSample,
        predNoise,
        attention: maps?.[0],
      };
    }
  } finally {
    tf.dispose([...previous, x]);
    first?.dispose();
    second?.dispose();
    scheduler.reset();
  }
}
