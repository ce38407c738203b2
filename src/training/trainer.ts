import * as tf from '@tensorflow/tfjs';
import { GaussianRng, makeSchedule, type Schedule } from '../diffusion';
import type { DiffusionConfig } from '../model/io';
import { UNet } from '../model/model';
import { ddpmLossPerExample } from './loss';

/** Optimisation settings (the defaults follow common small-DDPM recipes). */
export interface TrainConfig {
  /** Peak Adam learning rate. */
  learningRate: number;
  /** Linear warm-up from 0 over this many steps. */
  warmupSteps: number;
  /** Clip the global gradient norm to this (0 = off). */
  gradClipNorm: number;
  /** EMA decay of the sampling weights (0 = no EMA model). */
  emaDecay: number;
  /** Probability of replacing a label by "no label" (classifier-free guidance training). */
  labelDropout: number;
}

export const DEFAULT_TRAIN_CONFIG: TrainConfig = { learningRate: 1e-3, warmupSteps: 200, gradClipNorm: 1, emaDecay: 0.999, labelDropout: 0.1 };

export interface StepResult {
  step: number;
  /** L_simple of this batch (before the update). */
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  learningRate: number;
  /** The timestep drawn for each example and its own loss (for loss by timestep). */
  timesteps: Int32Array;
  losses: Float32Array;
}

/** The EMA decay used for the update after `step` earlier updates. */
export const emaDecayAt = (decay: number, step: number): number => Math.min(decay, (1 + step) / (10 + step));

/** Learning rate at a step: linear warm-up, then constant. */
export const learningRateAt = (c: TrainConfig, step: number): number => (step < c.warmupSteps ? (c.learningRate * (step + 1)) / c.warmupSteps : c.learningRate);

/**
 * Algorithm 1 of Ho et al. 2020 with Adam, warm-up, gradient clipping and an EMA copy of the weights.
 * Knows the model only through its weights and predict(); UI hooks in via the returned results.
 */
export class Trainer {
  readonly schedule: Schedule;
  readonly optimizer: tf.AdamOptimizer;
  /** Exponential moving average of the weights, for sampling (null when emaDecay = 0). */
  readonly ema: UNet | null;
  step = 0;
  /** [step, loss] after every step. */
  lossHistory: [number, number][] = [];

  constructor(
    readonly model: UNet,
    readonly diffusion: DiffusionConfig,
    readonly config: TrainConfig = DEFAULT_TRAIN_CONFIG,
    public rng = new GaussianRng(0),
  ) {
    this.schedule = makeSchedule(diffusion);
    this.optimizer = tf.train.adam(config.learningRate, 0.9, 0.999, 1e-8);
    this.ema = config.emaDecay > 0 ? UNet.create(model.config) : null;
    if (this.ema) model.copyTo(this.ema);
  }

  /** Draws t ~ U{0, …, T−1}, ε ~ N(0, I) and label dropout from the trainer's seeded generator. */
  private draw(batch: number, labels?: number[]) {
    const T = this.schedule.numTrainTimesteps;
    const t = Int32Array.from({ length: batch }, () => Math.min(T - 1, Math.floor(this.rng.uniform() * T)));
    const nc = this.model.config.numClasses;
    const dropped = labels && nc > 0 ? labels.map((l) => (this.rng.uniform() < this.config.labelDropout ? nc : l)) : undefined;
    return { t, labels: dropped };
  }

  /** One optimisation step on a batch x0 [B, H, W, C] in [−1, 1] (with class labels for a conditional model). */
  async trainStep(x0: tf.Tensor, labels?: number[]): Promise<StepResult> {
    const batch = x0.shape[0];
    const drawn = this.draw(batch, labels);
    const lr = learningRateAt(this.config, this.step);
    (this.optimizer as unknown as { learningRate: number }).learningRate = lr;
    const vars = [...this.model.weights.values()];
    let perExample: tf.Tensor | undefined;
    const [loss, gradNorm] = tf.tidy(() => {
      const t = tf.tensor1d(drawn.t, 'int32');
      const noise = this.rng.randn(x0.shape);
      const y = drawn.labels ? tf.tensor1d(drawn.labels, 'int32') : undefined;
      const { value, grads } = tf.variableGrads(() => {
        perExample = tf.keep(ddpmLossPerExample(this.model, this.schedule, x0, t, noise, y));
        return tf.mean(perExample) as tf.Scalar;
      }, vars);
      const names = Object.keys(grads);
      // summed one by one: a single addN over every weight needs one storage buffer per input, more than
      // WebGPU allows per shader (8 on some adapters), and its pipeline then silently fails
      const norm = tf.sqrt(names.reduce<tf.Tensor>((acc, n) => tf.add(acc, tf.sum(tf.square(grads[n]))), tf.scalar(0)));
      if (this.config.gradClipNorm > 0) {
        const scale = tf.minimum(1, tf.div(this.config.gradClipNorm, tf.add(norm, 1e-6)));
        for (const n of names) grads[n] = tf.mul(grads[n], scale);
      }
      this.optimizer.applyGradients(names.map((name) => ({ name, tensor: grads[name] })));
      return [value, norm];
    });
    if (this.ema) this.updateEma();
    this.step++;
    const [lossValue, normValue, losses] = await Promise.all([loss.data(), gradNorm.data(), perExample!.data() as Promise<Float32Array>]);
    tf.dispose([loss, gradNorm, perExample!]);
    this.lossHistory.push([this.step, lossValue[0]]);
    return { step: this.step, loss: lossValue[0], gradNorm: normValue[0], learningRate: lr, timesteps: drawn.t, losses };
  }

  /**
   * θ_ema ← d θ_ema + (1 − d) θ, with d warmed up as min(decay, (1 + n) / (10 + n)) after n updates
   * (as tf.train.ExponentialMovingAverage with num_updates), so a short run's EMA is not its initial weights.
   */
  private updateEma(): void {
    const d = emaDecayAt(this.config.emaDecay, this.step);
    tf.tidy(() => {
      for (const [name, v] of this.model.weights) {
        const e = this.ema!.weights.get(name)!;
        e.assign(tf.add(tf.mul(e, d), tf.mul(v, 1 - d)));
      }
    });
  }

  dispose(): void {
    this.optimizer.dispose();
    this.ema?.dispose();
  }
}
