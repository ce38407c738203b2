import * as tf from '@tensorflow/tfjs';
import { checkSameShape, qPosterior, qSample, type Timesteps } from './forward';
import { toX0AndEpsilon } from './predictions';
import { drawNoise } from './random';
import { alphaCumprodAt, makeSchedule, posteriorCoefficients, type Schedule } from './schedule';
import type { Scheduler, StepOptions, StepOutput } from './scheduler';
import { resolveSchedulerConfig, type ResolvedSchedulerConfig, type SchedulerConfig } from './scheduler-config';
import { asTimestep, leadingTimesteps, type Timestep } from './timestep';

export interface DDPMSchedulerConfig extends SchedulerConfig {
  /** σ_t² of the reverse process: β̃_t (eq. 7, 'fixed_small') or β_t ('fixed_large'); §3.2. Default fixed_small. */
  varianceType?: 'fixed_small' | 'fixed_large';
}

/** Smallest variance returned, as in diffusers: β̃_0 is exactly 0 and its log/sqrt must stay finite. */
const MIN_VARIANCE = 1e-20;

/**
 * Ancestral sampling of Ho et al. 2020 (Algorithm 2): by default one step per train timestep. With
 * setTimesteps(n < T) it jumps ⌊T/n⌋ timesteps per step through the same posterior (diffusers' DDPM).
 */
export class DDPMScheduler implements Scheduler {
  readonly config: ResolvedSchedulerConfig & { varianceType: 'fixed_small' | 'fixed_large' };
  readonly schedule: Schedule;
  /** T−1, …, 0 until setTimesteps chooses fewer. */
  timesteps: Timestep[];

  constructor(config: DDPMSchedulerConfig) {
    this.config = { ...resolveSchedulerConfig(config), varianceType: config.varianceType ?? 'fixed_small' };
    this.schedule = makeSchedule(this.config);
    this.timesteps = leadingTimesteps(this.config.numTrainTimesteps, this.config.numTrainTimesteps);
  }

  /** "Leading" spacing: T = 1000 and n = 10 give 900, 800, …, 0; n = T gives Algorithm 2 exactly. */
  setTimesteps(numInferenceSteps: number): void {
    this.timesteps = leadingTimesteps(this.config.numTrainTimesteps, numInferenceSteps);
  }

  /** The timestep a step from t lands on: t − ⌊T/n⌋ (−1 after the last: the clean image). */
  previousTimestep(t: number): number {
    return t - Math.floor(this.config.numTrainTimesteps / this.timesteps.length);
  }

  /** σ_t²: β̃_t = (1 − ᾱ_prev) / (1 − ᾱ_t) · β_t (eq. 7), or β_t. */
  getVariance(t: number, prevT = t - 1): number {
    const { variance, beta } = posteriorCoefficients(this.schedule, t, prevT);
    return this.config.varianceType === 'fixed_large' ? beta : Math.max(variance, MIN_VARIANCE);
  }

  addNoise(x0: tf.Tensor, noise: tf.Tensor, t: Timesteps): tf.Tensor {
    return qSample(this.schedule, x0, noise, t);
  }

  /**
   * One reverse step x_t → x_{t−1} (Algorithm 2, line 4):
   * x_{t−1} = μ̃_t(x̂0, x_t) + σ_t z, z ~ N(0, I), z = 0 at the last step.
   */
  step(modelOutput: tf.Tensor, t: Timestep, sample: tf.Tensor, options: StepOptions = {}): StepOutput {
    asTimestep(t, this.config.numTrainTimesteps);
    checkSameShape(modelOutput, sample, 'modelOutput', 'sample');
    const prevT = this.previousTimestep(t);
    const acT = alphaCumprodAt(this.schedule, t);
    return tf.tidy(() => {
      // 1. x̂0 from the model output — eq. (15) for ε-prediction
      const { x0 } = toX0AndEpsilon(modelOutput, sample, acT, this.config.predictionType);
      // 2. keep x̂0 in the data range
      const predOriginalSample = this.config.clipSample ? tf.clipByValue(x0, -1, 1) : x0;
      // 3. posterior mean μ̃_t(x_t, x̂0) — eq. (7)
      let prevSample = qPosterior(this.schedule, predOriginalSample, sample, t, prevT).mean;
      // 4. add σ_t z (Algorithm 2, line 4), except at the last step
      if (prevT >= 0)
        prevSample = tf.add(prevSample, tf.mul(Math.sqrt(this.getVariance(t, prevT)), drawNoise(options.noise, sample.shape)));
      return { prevSample, predOriginalSample };
    });
  }

  /** Nothing carries over between steps. */
  reset(): void {}
}
