import * as tf from '@tensorflow/tfjs';
import { checkSameShape, qSample, type Timesteps } from './forward';
import { epsilonFromX0, toX0AndEpsilon } from './predictions';
import { drawNoise } from './random';
import { makeSchedule, type Schedule } from './schedule';
import type { Scheduler, StepOptions, StepOutput } from './scheduler';
import { resolveSchedulerConfig, type ResolvedSchedulerConfig, type SchedulerConfig } from './scheduler-config';
import { asTimestep, leadingTimesteps, type Timestep } from './timestep';

export interface DDIMSchedulerConfig extends SchedulerConfig {
  /** Use ᾱ = 1 as the "previous" ᾱ of the final step (a clean last step), else ᾱ_0. Default true. */
  setAlphaToOne?: boolean;
  /** Added to every inference timestep (diffusers' steps_offset). Default 0. */
  stepsOffset?: number;
  /** Recompute ε̂ from the clipped x̂0 (as in Glide). Default false, like diffusers. */
  useClippedModelOutput?: boolean;
}

/** Denoising diffusion implicit models (Song et al. 2021): sampling with a subsequence of timesteps. */
export class DDIMScheduler implements Scheduler {
  readonly config: ResolvedSchedulerConfig & { setAlphaToOne: boolean; stepsOffset: number; useClippedModelOutput: boolean };
  readonly schedule: Schedule;
  /** ᾱ used for the step after t = 0. */
  readonly finalAlphaCumprod: number;
  /** The inference timesteps, descending; set by setTimesteps. */
  timesteps: Timestep[] = [];

  constructor(config: DDIMSchedulerConfig) {
    this.config = {
      ...resolveSchedulerConfig(config),
      setAlphaToOne: config.setAlphaToOne ?? true,
      stepsOffset: config.stepsOffset ?? 0,
      useClippedModelOutput: config.useClippedModelOutput ?? false,
    };
    this.schedule = makeSchedule(this.config);
    this.finalAlphaCumprod = this.config.setAlphaToOne ? 1 : this.schedule.alphasCumprod[0];
  }

  /** "Leading" spacing: with T = 1000 and 10 steps, 900, 800, …, 0 (plus stepsOffset). */
  setTimesteps(numInferenceSteps: number): void {
    this.timesteps = leadingTimesteps(this.config.numTrainTimesteps, numInferenceSteps, this.config.stepsOffset);
  }

  /** The timestep this step lands on: t − T / numInferenceSteps (negative after the last). */
  previousTimestep(t: number): number {
    if (this.timesteps.length === 0) throw new Error('call setTimesteps(numInferenceSteps) before stepping');
    return t - Math.floor(this.config.numTrainTimesteps / this.timesteps.length);
  }

  private alphaCumprod(t: number): number {
    return t >= 0 ? this.schedule.alphasCumprod[t] : this.finalAlphaCumprod;
  }

  /** σ_t(1)² = (1 − ᾱ_prev) / (1 − ᾱ_t) · (1 − ᾱ_t / ᾱ_prev) — Song et al. 2021, eq. (16) with η = 1. */
  getVariance(t: number, prevT: number): number {
    const acT = this.alphaCumprod(t);
    const acPrev = this.alphaCumprod(prevT);
    return ((1 - acPrev) / (1 - acT)) * (1 - acT / acPrev);
  }

  addNoise(x0: tf.Tensor, noise: tf.Tensor, t: Timesteps): tf.Tensor {
    return qSample(this.schedule, x0, noise, t);
  }

  /**
   * One step x_t → x_prev (Song et al. 2021, eq. 12):
   * x_prev = √ᾱ_prev x̂0 + √(1 − ᾱ_prev − σ_t²) ε̂ + σ_t z,  σ_t = η σ_t(1).
   */
  step(modelOutput: tf.Tensor, t: Timestep, sample: tf.Tensor, options: StepOptions = {}): StepOutput {
    const eta = options.eta ?? 0;
    if (!(eta >= 0)) throw new RangeError(`eta must be ≥ 0, got ${eta}`);
    asTimestep(t, this.config.numTrainTimesteps);
    checkSameShape(modelOutput, sample, 'modelOutput', 'sample');
    // 1. the timestep we land on and its ᾱ
    const prevT = this.previousTimestep(t);
    const acT = this.alphaCumprod(t);
    const acPrev = this.alphaCumprod(prevT);
    return tf.tidy(() => {
      // 2. x̂0 and ε̂ from the model output ("predicted x0" of eq. 12)
      const pred = toX0AndEpsilon(modelOutput, sample, acT, this.config.predictionType);
      // 3. clip x̂0 to the data range
      const predOriginalSample = this.config.clipSample ? tf.clipByValue(pred.x0, -1, 1) : pred.x0;
      // 4. σ_t = η √(variance) — eq. (16)
      const std = eta * Math.sqrt(this.getVariance(t, prevT));
      const eps = this.config.useClippedModelOutput ? epsilonFromX0(sample, predOriginalSample, acT) : pred.eps;
      // 5. "direction pointing to x_t" and x_prev — eq. (12)
      const direction = tf.mul(Math.sqrt(Math.max(1 - acPrev - std * std, 0)), eps);
      let prevSample = tf.add(tf.mul(Math.sqrt(acPrev), predOriginalSample), direction);
      if (eta > 0) prevSample = tf.add(prevSample, tf.mul(std, drawNoise(options.noise, sample.shape)));
      return { prevSample, predOriginalSample };
    });
  }

  /** Nothing carries over between steps. */
  reset(): void {}
}
