import * as tf from '@tensorflow/tfjs';
import { checkSameShape, qSample, type Timesteps } from './forward';
import { toX0AndEpsilon } from './predictions';
import { makeSchedule, type Schedule } from './schedule';
import type { Scheduler, StepOutput } from './scheduler';
import { resolveSchedulerConfig, type ResolvedSchedulerConfig, type SchedulerConfig } from './scheduler-config';
import { linspaceTimesteps, type Timestep } from './timestep';

export interface DPMSolverConfig extends SchedulerConfig {
  /** 2: DPM-Solver++(2M), the multistep second-order solver (default). 1: first order, which is DDIM with η = 0. */
  solverOrder?: 1 | 2;
  /** A first-order last step when a run has fewer than 15 steps (diffusers' lower_order_final; default true): it steadies short runs. */
  lowerOrderFinal?: boolean;
  /** Where the last step lands: 'zero' noise, the clean image (default, as in diffusers), or 'sigma_min', the noise level of t = 0. */
  finalSigmasType?: 'zero' | 'sigma_min';
}

/** A point on the solver's time axis: α = √ᾱ, σ = √(1 − ᾱ) and the half log-SNR λ = log(α/σ). */
interface Level {
  alpha: number;
  sigma: number;
  lambda: number;
}

const level = (alphaCumprod: number): Level => {
  const alpha = Math.sqrt(alphaCumprod);
  const sigma = Math.sqrt(1 - alphaCumprod);
  return { alpha, sigma, lambda: Math.log(alpha) - Math.log(sigma) };
};

/**
 * DPM-Solver++(2M) (Lu et al. 2022, "DPM-Solver++: Fast Solver for Guided Sampling of Diffusion
 * Probabilistic Models", Algorithm 2): the probability-flow ODE solved in λ = log(α/σ) for the data
 * prediction x̂0, reusing the previous step's x̂0 for the second-order term — good images in 10–20
 * model evaluations. Deterministic: no noise is drawn. Matches diffusers' DPMSolverMultistepScheduler
 * (algorithm_type 'dpmsolver++', solver_type 'midpoint', "linspace" timestep spacing).
 */
export class DPMSolverMultistepScheduler implements Scheduler {
  readonly config: ResolvedSchedulerConfig & Required<Pick<DPMSolverConfig, 'solverOrder' | 'lowerOrderFinal' | 'finalSigmasType'>>;
  readonly schedule: Schedule;
  /** The inference timesteps, descending; set by setTimesteps. */
  timesteps: Timestep[] = [];
  /** The previous step's timestep and x̂0 (the "model output" a multistep solver remembers). */
  private previous: { t: Timestep; x0: tf.Tensor } | null = null;

  constructor(config: DPMSolverConfig) {
    this.config = {
      ...resolveSchedulerConfig(config),
      solverOrder: config.solverOrder ?? 2,
      lowerOrderFinal: config.lowerOrderFinal ?? true,
      finalSigmasType: config.finalSigmasType ?? 'zero',
    };
    this.schedule = makeSchedule(this.config);
  }

  /** "Linspace" spacing: round(linspace(0, T − 1, n + 1)) reversed, without its last entry (0), duplicates dropped. */
  setTimesteps(numInferenceSteps: number): void {
    this.timesteps = linspaceTimesteps(this.config.numTrainTimesteps, numInferenceSteps);
    this.reset();
  }

  addNoise(x0: tf.Tensor, noise: tf.Tensor, t: Timesteps): tf.Tensor {
    return qSample(this.schedule, x0, noise, t);
  }

  /** The level after timesteps[i]: the next timestep's, or after the last one the clean image (σ = 0) or t = 0's. */
  private nextLevel(i: number): Level {
    if (i + 1 < this.timesteps.length) return level(this.schedule.alphasCumprod[this.timesteps[i + 1]]);
    if (this.config.finalSigmasType === 'zero') return { alpha: 1, sigma: 0, lambda: Infinity };
    return level(this.schedule.alphasCumprod[0]);
  }

  /**
   * One step from t to the next timestep s (Lu et al. 2022, eq. 9 and Algorithm 2), with h = λ_s − λ_t:
   *   first order:  x_s = (σ_s/σ_t) x_t − α_s (e^{−h} − 1) D0
   *   second order: the same with D0 + ½ D1, D1 = (D0 − x̂0_prev) h / h_prev (midpoint rule)
   * where D0 is this step's x̂0. The second order needs the previous step's x̂0, so the first step of a
   * run (or one not following its predecessor) is first order, as is a short run's last (lowerOrderFinal).
   */
  step(modelOutput: tf.Tensor, t: Timestep, sample: tf.Tensor): StepOutput {
    const i = this.timesteps.indexOf(t);
    if (i < 0)
      throw new RangeError(
        this.timesteps.length
          ? `timestep ${t} is not one of this run's timesteps (call setTimesteps)`
          : 'call setTimesteps(numInferenceSteps) before stepping',
      );
    checkSameShape(modelOutput, sample, 'modelOutput', 'sample');
    const acT = this.schedule.alphasCumprod[t];
    const now = level(acT);
    const next = this.nextLevel(i);
    const h = next.lambda - now.lambda;
    const last = i === this.timesteps.length - 1;
    const lowerOrderFinal = last && ((this.config.lowerOrderFinal && this.timesteps.length < 15) || this.config.finalSigmasType === 'zero');
    const previous = this.previous;
    const secondOrder = this.config.solverOrder === 2 && previous !== null && previous.t === this.timesteps[i - 1] && !lowerOrderFinal;
    // −α_s (e^{−h} − 1), the weight of x̂0 (0 · ∞ cannot occur: h = ∞ only with α_s = 1)
    const x0Weight = -next.alpha * Math.expm1(-h);
    const out = tf.tidy(() => {
      // 1. the data prediction x̂0 ("DPM-Solver++" solves for x0, not ε), clipped to the data range
      const { x0 } = toX0AndEpsilon(modelOutput, sample, acT, this.config.predictionType);
      const predOriginalSample = this.config.clipSample ? tf.clipByValue(x0, -1, 1) : x0;
      // 2. D = D0 (+ ½ D1 for the second order)
      let d = predOriginalSample;
      if (secondOrder && previous) {
        const prevLevel = level(this.schedule.alphasCumprod[previous.t]);
        const r = (now.lambda - prevLevel.lambda) / h; // r0 = h_prev / h
        d = tf.add(predOriginalSample, tf.mul(0.5 / r, tf.sub(predOriginalSample, previous.x0)));
      }
      // 3. x_s = (σ_s/σ_t) x_t − α_s (e^{−h} − 1) D
      const prevSample = tf.add(tf.mul(next.sigma / now.sigma, sample), tf.mul(x0Weight, d));
      return { prevSample, predOriginalSample };
    });
    this.previous?.x0.dispose();
    this.previous = last ? null : { t, x0: out.predOriginalSample.clone() };
    return out;
  }

  /** Frees the remembered x̂0; the next step starts a new run (first order). */
  reset(): void {
    this.previous?.x0.dispose();
    this.previous = null;
  }
}
