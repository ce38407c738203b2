import type * as tf from '@tensorflow/tfjs';
import type { Timesteps } from './forward';
import type { PredictionType } from './predictions';
import type { GaussianRng } from './random';
import type { Schedule, ScheduleConfig } from './schedule';
import type { Timestep } from './timestep';

/**
 * How a model was trained — its noise schedule and what it predicts. It travels with the weights;
 * the pipeline builds any scheduler from it.
 */
export interface DiffusionConfig extends ScheduleConfig {
  predictionType: PredictionType;
}

/** The paper's setting (T = 1000, linear β, ε-prediction): the shipped model's, and every new model's. */
export const DEFAULT_DIFFUSION: DiffusionConfig = { numTrainTimesteps: 1000, betaSchedule: 'linear', predictionType: 'epsilon' };

/** One reverse step's result. */
export interface StepOutput {
  /** The sample at the next (smaller) timestep, x_{t−1} for DDPM. */
  prevSample: tf.Tensor;
  /** x̂0, the model's current guess of the clean image ("to preview progress"). */
  predOriginalSample: tf.Tensor;
}

export interface StepOptions {
  /** z for a stochastic step, or a seeded generator to draw it from; omitted, an unseeded one. Deterministic steps ignore it. */
  noise?: tf.Tensor | GaussianRng;
  /** η of DDIM (Song et al. 2021, eq. 16): 0 deterministic, 1 DDPM's variance. Schedulers without η ignore it. */
  eta?: number;
}

/**
 * The contract every reverse-process scheduler keeps (one per file, as in diffusers). A scheduler
 * knows the schedule and nothing of the model; the pipeline feeds it model outputs in the order of
 * `timesteps`.
 */
export interface Scheduler {
  readonly schedule: Schedule;
  /** The timesteps a run visits, descending; set by setTimesteps. */
  readonly timesteps: readonly Timestep[];
  /** Chooses the run's timesteps: `numInferenceSteps` of the T train timesteps. */
  setTimesteps(numInferenceSteps: number): void;
  /** The forward process q(x_t | x0), eq. (4) of Ho et al. */
  addNoise(x0: tf.Tensor, noise: tf.Tensor, t: Timesteps): tf.Tensor;
  /** One reverse step from x_t at `t` to the next timestep of `timesteps`. The caller owns the outputs. */
  step(modelOutput: tf.Tensor, t: Timestep, sample: tf.Tensor, options?: StepOptions): StepOutput;
  /** Forgets what a multistep solver carries from one step to the next (and frees it); call at the end of a run. */
  reset(): void;
}
