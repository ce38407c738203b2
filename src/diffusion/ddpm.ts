import * as tf from '@tensorflow/tfjs';
import { checkSameShape, checkTimestep, qSample, type Timesteps } from './forward';
import { toX0AndEpsilon } from './predictions';
import { drawNoise, type GaussianRng } from './random';
import { alphaCumprodAt, makeSchedule, posteriorCoefficients, type Schedule } from './schedule';
import { resolveSchedulerConfig, type ResolvedSchedulerConfig, type SchedulerConfig } from './scheduler-config';

export interface DDPMSchedulerConfig extends SchedulerConfig {
  /** σ_t² of the reverse process: β̃_t (eq. 7, 'fixed_small') or β_t ('fixed_large'); §3.2. Default fixed_small. */
  varianceType?: 'fixed_small' | 'fixed_large';
}

export interface StepOutput {
  /** x_{t−1}. */
  prevSample: tf.Tensor;
  /** x̂0, the model's current guess of the clean image ("to preview progress"). */
  predOriginalSample: tf.Tensor;
}

/** Smallest variance returned, as in diffusers: β̃_0 is exactly 0 and its log/sqrt must stay finite. */
const MIN_VARIANCE = 1e-20;

/** Ancestral sampling of Ho et al. 2020 (Algorithm 2), one scheduler step per train timestep. */
export class DDPMScheduler {
  readonly config: ResolvedSchedulerConfig & { varianceType: 'fixed_small' | 'fixed_large' };
  readonly schedule: Schedule;
  /** T−1, …, 0. */
  readonly timesteps: number[];

  constructor(config: DDPMSchedulerConfig) {
    this.config = { ...resolveSchedulerConfig(config), varianceType: config.varianceType ?? 'fixed_small' };
    this.schedule = makeSchedule(this.config);
    this.timesteps = Array.from({ length: this.config.numTrainTimesteps }, (_, i) => this.config.numTrainTimesteps - 1 - i);
  }

  /** σ_t²: β̃_t = (1 − ᾱ_{t−1}) / (1 − ᾱ_t) · β_t (eq. 7) or β_t. */
  getVariance(t: number): number {
    checkTimestep(this.schedule, t);
    if (this.config.varianceType === 'fixed_large') return this.schedule.betas[t];
    return Math.max(posteriorCoefficients(this.schedule, t).variance, MIN_VARIANCE);
  }

  /** The forward process q(x_t | x0), eq. (4). */
  addNoise(x0: tf.Tensor, noise: tf.Tensor, t: Timesteps): tf.Tensor {
    return qSample(this.schedule, x0, noise, t);
  }

  /**
   * One reverse step x_t → x_{t−1} (Algorithm 2, line 4):
   * x_{t−1} = μ̃_t(x̂0, x_t) + σ_t z, z ~ N(0, I), z = 0 at t = 0.
   * `noise` is z, or a seeded generator to draw it from; omitted, an unseeded one is used.
   */
  step(modelOutput: tf.Tensor, t: number, sample: tf.Tensor, noise?: tf.Tensor | GaussianRng): StepOutput {
    checkTimestep(this.schedule, t);
    checkSameShape(modelOutput, sample, 'modelOutput', 'sample');
    const acT = alphaCumprodAt(this.schedule, t);
    const { x0Coef, xtCoef } = posteriorCoefficients(this.schedule, t);
    return tf.tidy(() => {
      // 1. x̂0 from the model output — eq. (15) for ε-prediction
      const { x0 } = toX0AndEpsilon(modelOutput, sample, acT, this.config.predictionType);
      // 2. keep x̂0 in the data range
      const predOriginalSample = this.config.clipSample ? tf.clipByValue(x0, -1, 1) : x0;
      // 3. posterior mean μ̃_t(x_t, x̂0) — eq. (7)
      let prevSample = tf.add(tf.mul(x0Coef, predOriginalSample), tf.mul(xtCoef, sample));
      // 4. add σ_t z (Algorithm 2, line 4), except at the last step
      if (t > 0) prevSample = tf.add(prevSample, tf.mul(Math.sqrt(this.getVariance(t)), drawNoise(noise, sample.shape)));
      return { prevSample, predOriginalSample };
    });
  }
}
