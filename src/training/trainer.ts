import * as tf from '@tensorflow/tfjs';
import { DDPMScheduler, GaussianRng } from '../diffusion';
import type { DiffusionConfig } from '../diffusion/scheduler';
import { weight } from '../model/layers';
import { UNet } from '../model/model';
import { planOf } from '../model/plans';
import { PAD_ID, START_ID } from '../text/tokenizer';
import { FlatLayout, FusedAdam, flatVariable } from './fused-optimizer';
import { ddpmLoss, minSnrWeights } from './loss';

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
  /** Probability of replacing a label by "no label", or a caption by the empty prompt (classifier-free guidance training). */
  labelDropout: number;
  /** Min-SNR-γ weighting of the loss (Hang et al. 2023; minSnrWeights); absent or 0: L_simple, every timestep alike. */
  minSnrGamma?: number;
}

export const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  learningRate: 1e-3,
  warmupSteps: 200,
  gradClipNorm: 1,
  emaDecay: 0.999,
  labelDropout: 0.1,
};

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
export const learningRateAt = (c: TrainConfig, step: number): number =>
  step < c.warmupSteps ? (c.learningRate * (step + 1)) / c.warmupSteps : c.learningRate;

/** A text model's captions for a step: each image's token ids (tokenize(), the model's maxTokens of them). */
export interface CaptionTokens {
  tokens: number[][];
}

/** Adam's state, per weight (in the model's weight order), as checkpoints store it. */
export interface AdamState {
  /** Updates applied so far. */
  iterations: number;
  m: tf.Tensor[];
  v: tf.Tensor[];
}

/**
 * Algorithm 1 of Ho et al. 2020 with Adam, warm-up, gradient clipping and an EMA copy of the weights.
 * Knows the model only through its weights and predict(); UI hooks in via the returned results.
 *
 * The optimizer works on flat buffers (FusedAdam): the gradients are concatenated once, clipped by
 * their global norm, and Adam and the EMA update every parameter in a few kernels; the model's
 * weights are then written back from the flat parameters. The trainer owns the model's weights from
 * its construction on: a change made to them behind its back is overwritten by the next step.
 */
export class Trainer {
  /** The forward process the training images are noised with (eq. 4). */
  readonly forward: DDPMScheduler;
  step = 0;
  /** [step, loss] after every step. */
  lossHistory: [number, number][] = [];
  private readonly adam: FusedAdam;
  /** The flat EMA of θ (null when emaDecay = 0), and a model that shows it, refreshed when read. */
  private readonly emaFlat: tf.Variable<tf.Rank.R1> | null;
  private readonly emaModel: UNet | null;
  private emaStale = false;

  constructor(
    readonly model: UNet,
    readonly diffusion: DiffusionConfig,
    readonly config: TrainConfig = DEFAULT_TRAIN_CONFIG,
    public rng = new GaussianRng(0),
  ) {
    this.forward = new DDPMScheduler(diffusion);
    this.adam = new FusedAdam(FlatLayout.of(model.weights), [...model.weights.values()], 0.9, 0.999, 1e-8);
    this.emaFlat = config.emaDecay > 0 ? flatVariable(this.adam.theta.clone()) : null;
    this.emaModel = config.emaDecay > 0 ? UNet.create(model.config) : null;
    if (this.emaModel) model.copyTo(this.emaModel);
  }

  /** Exponential moving average of the weights, for sampling (null when emaDecay = 0). */
  get ema(): UNet | null {
    if (this.emaModel && this.emaStale) {
      const pieces = this.adam.layout.unflatten(this.emaFlat!);
      assignAll(this.emaModel, pieces);
      tf.dispose(pieces);
      this.emaStale = false;
    }
    return this.emaModel;
  }

  /**
   * Draws t ~ U{0, …, T−1}, ε ~ N(0, I) and the condition's dropout from the trainer's seeded
   * generator: a label becomes "no label", a caption the empty prompt (<start>, then <pad>), as
   * tools/torch/train_text.py does.
   */
  private draw(batch: number, condition?: number[] | CaptionTokens) {
    const T = this.diffusion.numTrainTimesteps;
    const t = Int32Array.from({ length: batch }, () => Math.min(T - 1, Math.floor(this.rng.uniform() * T)));
    const dropped = () => this.rng.uniform() < this.config.labelDropout;
    if (condition && !Array.isArray(condition)) {
      const tokens = condition.tokens.map((ids) => (dropped() ? ids.map((_, i) => (i === 0 ? START_ID : PAD_ID)) : ids));
      return { t, tokens };
    }
    // a model without a "no label" row (an imported diffusers UNet2DModel) keeps every label
    const noLabel = planOf(this.model.config).labels?.noLabel ?? null;
    return { t, labels: condition?.map((l) => (noLabel !== null && dropped() ? noLabel : l)) };
  }

  /**
   * One optimisation step on a batch x0 [B, H, W, C] in [−1, 1], with class labels for a conditional
   * model or captions' token ids for a text model (encoded inside the step: the text encoder trains too).
   */
  async trainStep(x0: tf.Tensor, condition?: number[] | CaptionTokens): Promise<StepResult> {
    const batch = x0.shape[0];
    const drawn = this.draw(batch, condition);
    const lr = learningRateAt(this.config, this.step);
    const vars = [...this.model.weights.values()];
    let perExample: tf.Tensor | undefined;
    const [loss, gradNorm] = tf.tidy(() => {
      const t = tf.tensor1d(drawn.t, 'int32');
      const noise = this.rng.randn(x0.shape);
      const y = drawn.labels ? tf.tensor1d(drawn.labels, 'int32') : undefined;
      const ids = drawn.tokens ? tf.tensor2d(drawn.tokens, undefined, 'int32') : undefined; // [B, L]
      const gamma = this.config.minSnrGamma ?? 0;
      const weights = gamma > 0 ? tf.tensor1d(minSnrWeights(this.forward.schedule, drawn.t, gamma)) : null;
      const { value, grads } = tf.variableGrads(() => {
        perExample = tf.keep(ddpmLoss(this.model, this.forward, x0, t, noise, ids ? this.model.encode(ids) : y));
        return tf.mean<tf.Scalar>(weights ? tf.mul(perExample, weights) : perExample);
      }, vars);
      const gradNorm = this.adam.step(
        vars.map((v) => grads[v.name]),
        lr,
        this.config.gradClipNorm,
      );
      assignAll(this.model, this.adam.layout.unflatten(this.adam.theta));
      this.updateEma(this.adam.theta);
      return [value, gradNorm];
    });
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
  private updateEma(theta: tf.Tensor1D): void {
    if (!this.emaFlat) return;
    const d = emaDecayAt(this.config.emaDecay, this.step);
    this.emaFlat.assign(tf.add(tf.mul(this.emaFlat, d), tf.mul(theta, 1 - d)));
    this.emaStale = true;
  }

  /** Sets the EMA weights (by name). */
  setEmaWeights(weights: ReadonlyMap<string, tf.Tensor>): void {
    if (!this.emaFlat) throw new Error('this trainer keeps no EMA (emaDecay = 0)');
    tf.tidy(() => this.emaFlat!.assign(this.adam.layout.flatten(this.adam.layout.names.map((n) => weight(weights, n)))));
    this.emaStale = true;
  }

  /** Adam's moments per weight (new tensors: the caller disposes them) and its update count. */
  adamState(): AdamState {
    return { iterations: this.adam.iterations, m: this.adam.layout.unflatten(this.adam.m), v: this.adam.layout.unflatten(this.adam.v) };
  }

  /** Restores Adam's moments (per weight, in the model's weight order) and update count. */
  setAdamState(state: AdamState): void {
    this.adam.setMoments(state.iterations, state.m, state.v);
  }

  dispose(): void {
    this.adam.dispose();
    this.emaFlat?.dispose();
    this.emaModel?.dispose();
  }
}

/** Assigns tensors (in the model's weight order) to its weights. */
function assignAll(model: UNet, tensors: readonly tf.Tensor[]): void {
  [...model.weights.values()].forEach((w, i) => w.assign(tensors[i]));
}
