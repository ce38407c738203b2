import * as tf from '@tensorflow/tfjs';
import { GaussianRng } from '../diffusion/random';
import type { ImageDataset } from '../data/dataset';
import { explainFailure } from '../engine/failures';
import { PauseGate, type RunState } from '../engine/pause-gate';
import { yieldToEvents } from '../engine/yield';
import { isTextUNet, type ModelConfig } from '../model/config';
import type { DiffusionConfig } from '../diffusion/scheduler';
import { UNet } from '../model/model';
import { planOf } from '../model/plans';
import { sample } from '../pipeline/sample';
import { KEEP_EVERY_MS } from '../protocol/training';
import { tokenize } from '../text/tokenizer';
import { restoreTrainer, saveCheckpoint, type TrainingCheckpoint } from './checkpoint';
import { Trainer, type StepResult, type TrainConfig } from './trainer';

/** How a run goes: batch, length, augmentation and how often to look at it and save it. */
export interface RunOptions {
  batchSize: number;
  /** The step count the run aims for (progress and ETA); it stops there. */
  totalSteps: number;
  /** Mirror images left–right at random. */
  flip: boolean;
  /** Sample a preview with the EMA weights every this many steps (0 = never). */
  previewEvery: number;
  /** Hand a checkpoint to onCheckpoint every this many steps. */
  checkpointEvery: number;
  /** The model's class for each of the data set's classes (default: the same index), e.g. folder '7' → digit 7 when fine-tuning. */
  labelMap?: number[];
  /** The model's class names, which label the previews (default: the class numbers). */
  classNames?: string[];
}

export const LOSS_BUCKETS = 10;

export interface TrainProgress {
  step: number;
  totalSteps: number;
  loss: number;
  learningRate: number;
  /** Images per second over the recent steps. */
  imagesPerSecond: number;
  etaSeconds: number;
  /** Mean recent loss per timestep bucket (t in [k·T/n, (k+1)·T/n), n = its length); NaN where no sample fell yet. */
  bucketLoss: number[];
  /** T, the diffusion's number of timesteps: what the buckets divide. */
  numTrainTimesteps: number;
}

export interface PreviewFrame {
  step: number;
  /** size·size·channels values in [−1, 1] per image. */
  images: Float32Array;
  batch: number;
  /** What each image was asked to be: its class's name or its caption ('' for an unconditional model). */
  asked: string[];
}

export type StopReason =
  | { kind: 'finished' | 'stopped' }
  /** A NaN/Inf loss: the weights were rolled back to the checkpoint at `restoredStep`. */
  | { kind: 'diverged'; message: string; restoredStep: number }
  | { kind: 'error'; message: string };

export interface SessionHooks {
  onStep?: (result: StepResult, progress: TrainProgress) => void;
  onPreview?: (frame: PreviewFrame) => void;
  onCheckpoint?: (checkpoint: TrainingCheckpoint) => Promise<void> | void;
  /** The run started, paused, resumed or ended. */
  onState?: (state: RunState, step: number) => void;
}

const PREVIEW_BATCH = 8;
const PREVIEW_STEPS = 20;
const PREVIEW_SEED = 1234;
const RATE_WINDOW = 20;
/** The loss's running average may reach this many times its lowest before the run counts as diverged. */
const DIVERGENCE_FACTOR = 10;

/**
 * A training run on a person's data set: Algorithm 1 step after step, with pause/resume/stop, a NaN
 * guard that rolls back to the last good checkpoint, periodic checkpoints, EMA previews (fast DDIM)
 * and loss by timestep. Free of the worker and the page (talks through hooks): the worker drives it,
 * and so do the tests in Node.
 */
export class TrainingSession {
  private readonly gate: PauseGate;
  /** The newest checkpoint known to be good: a step after it still had a finite loss. */
  private lastGood: TrainingCheckpoint | null = null;
  /** A checkpoint waiting for that proof. */
  private candidate: TrainingCheckpoint | null = null;
  private readonly bucketSum = new Float64Array(LOSS_BUCKETS);
  private readonly bucketCount = new Float64Array(LOSS_BUCKETS);
  private readonly stepTimes: number[] = [];
  /** The loss's running average in this run, and the lowest it has been: the divergence check. */
  private lossAverage: number | null = null;
  private keepRequested = false;
  private pauseAnnounced = false;
  private keptAt = performance.now();
  private lowestAverage = Infinity;

  constructor(
    public trainer: Trainer,
    readonly dataset: ImageDataset,
    public options: RunOptions,
    private readonly hooks: SessionHooks = {},
  ) {
    // 'paused' is announced by the loop once it has stopped between steps and kept a checkpoint, not
    // when asked for: a step under way when pause() came still finishes, and the step shown must be the kept one
    this.gate = new PauseGate((state) => {
      if (state !== 'paused') {
        this.pauseAnnounced = false;
        hooks.onState?.(state, this.trainer.step);
      }
    });
    const { config } = trainer.model;
    if (config.imageSize !== dataset.size || config.inChannels !== dataset.channels)
      throw new RangeError(
        `the model takes ${config.imageSize}×${config.imageSize}×${config.inChannels} images; the data set has ${dataset.size}×${dataset.size}×${dataset.channels}`,
      );
  }

  /** A fresh model (or a copy of `init`, for fine-tuning) and trainer for this data set. */
  static create(
    config: ModelConfig,
    diffusion: DiffusionConfig,
    trainConfig: TrainConfig,
    dataset: ImageDataset,
    options: RunOptions,
    hooks?: SessionHooks,
    init?: UNet,
    seed = 0,
  ): TrainingSession {
    const model = UNet.create(config, seed);
    init?.copyTo(model);
    return new TrainingSession(new Trainer(model, diffusion, trainConfig, new GaussianRng(seed)), dataset, options, hooks);
  }

  /** Continues a run from a checkpoint, exactly (same RNG state, optimiser moments and loss history). */
  static async resume(
    checkpoint: TrainingCheckpoint,
    dataset: ImageDataset,
    options: RunOptions,
    hooks?: SessionHooks,
  ): Promise<TrainingSession> {
    const session = new TrainingSession(await restoreTrainer(checkpoint), dataset, options, hooks);
    session.lastGood = checkpoint;
    return session;
  }

  /** The weights to sample with: the EMA copy when there is one. */
  get samplingModel(): UNet {
    return this.trainer.ema ?? this.trainer.model;
  }

  get state(): RunState {
    return this.gate.state;
  }
  pause(): void {
    this.gate.pause();
  }
  resume(): void {
    this.gate.resume();
  }
  stop(): void {
    this.gate.stop();
  }
  /** Keep a checkpoint of the current step at the next step boundary (e.g. the page is going away). */
  requestKeep(): void {
    this.keepRequested = true;
  }

  /**
   * A checkpoint of the current step, confirmed at once: the step that led here passed the
   * divergence check, so these weights are good. Nothing when the newest good one is this step's.
   */
  private async keepNow(): Promise<void> {
    this.keepRequested = false;
    this.keptAt = performance.now();
    if (this.lastGood?.step !== this.trainer.step) await this.confirm(await saveCheckpoint(this.trainer));
  }

  /** Trains until totalSteps, stop() or a failure; resolves with why it ended. */
  async run(): Promise<StopReason> {
    this.gate.start();
    try {
      if (!this.lastGood) await this.keepNow();
      while (this.trainer.step < this.options.totalSteps) {
        // moments to keep the run as it is now: a pause, a request (the page is being hidden), or time
        if (this.gate.state === 'paused' || this.keepRequested || performance.now() - this.keptAt > KEEP_EVERY_MS) await this.keepNow();
        if (this.gate.state === 'paused' && !this.pauseAnnounced) {
          this.pauseAnnounced = true;
          this.hooks.onState?.('paused', this.trainer.step);
        }
        if (!(await this.gate.next())) break;
        const result = await this.trainStep();
        const diverged = this.divergence(result);
        if (diverged) return await this.rollBack(diverged);
        if (this.candidate) await this.confirm(this.candidate);
        this.hooks.onStep?.(result, this.progress(result));
        const step = this.trainer.step;
        if (this.options.previewEvery > 0 && step % this.options.previewEvery === 0) await this.preview();
        if (step % this.options.checkpointEvery === 0) this.candidate = await saveCheckpoint(this.trainer);
        await yieldToEvents();
      }
      // the last step's loss was finite and its gradient too: keep where it stopped
      await this.keepNow();
      return { kind: this.gate.stopRequested ? 'stopped' : 'finished' };
    } catch (e) {
      return { kind: 'error', message: explainFailure(e) };
    } finally {
      this.gate.finish();
    }
  }

  /** The class an unlabelled picture trains: the model's "no label" row; a model without one needs every picture labelled. */
  private noLabel(): number {
    const row = planOf(this.trainer.model.config).labels?.noLabel ?? null;
    if (row === null) throw new Error('this model has no "no label" class: every picture needs a folder named like one of its classes');
    return row;
  }

  private async trainStep(): Promise<StepResult> {
    const { batchSize, flip } = this.options;
    const config = this.trainer.model.config;
    const { imageSize: s, inChannels: c, numClasses } = config;
    const { values, labels, captions } = this.dataset.batch(this.trainer.rng, batchSize, flip, -1);
    const map = this.options.labelMap;
    const classOf = (l: number) => (l < 0 ? this.noLabel() : map ? map[l] : l); // −1: unlabelled → "no label"
    const condition = isTextUNet(config)
      ? { tokens: captions.map((caption) => tokenize(caption, config.text.vocabulary, config.text.maxTokens).ids) }
      : numClasses > 0
        ? labels.map(classOf)
        : undefined;
    const x0 = tf.tensor4d(values, [batchSize, s, s, c]);
    try {
      const result = await this.trainer.trainStep(x0, condition);
      this.stepTimes.push(performance.now());
      if (this.stepTimes.length > RATE_WINDOW) this.stepTimes.shift();
      const T = this.trainer.diffusion.numTrainTimesteps;
      result.timesteps.forEach((t, i) => {
        const k = Math.min(LOSS_BUCKETS - 1, Math.floor((t * LOSS_BUCKETS) / T));
        // an exponential average per bucket: recent enough to show learning, smooth enough to read
        this.bucketSum[k] = this.bucketSum[k] * 0.98 + result.losses[i];
        this.bucketCount[k] = this.bucketCount[k] * 0.98 + 1;
      });
      return result;
    } finally {
      x0.dispose();
    }
  }

  private progress(result: StepResult): TrainProgress {
    const times = this.stepTimes;
    const perStep = times.length >= 2 ? (times[times.length - 1] - times[0]) / 1000 / (times.length - 1) : NaN;
    return {
      step: result.step,
      totalSteps: this.options.totalSteps,
      loss: result.loss,
      learningRate: result.learningRate,
      imagesPerSecond: this.options.batchSize / perStep,
      etaSeconds: perStep * Math.max(0, this.options.totalSteps - result.step),
      bucketLoss: Array.from(this.bucketSum, (s, k) => (this.bucketCount[k] > 0 ? s / this.bucketCount[k] : NaN)),
      numTrainTimesteps: this.trainer.diffusion.numTrainTimesteps,
    };
  }

  /**
   * A fixed-seed DDIM sample from the EMA weights, so previews at different steps compare directly:
   * one per class, or for a text model the data set's first captions.
   */
  async preview(): Promise<PreviewFrame> {
    const model = this.samplingModel;
    const nc = model.config.numClasses;
    const labels = Array.from({ length: PREVIEW_BATCH }, (_, i) => (nc > 0 ? i % nc : null));
    const items = this.dataset.items;
    const prompts = isTextUNet(model.config)
      ? Array.from({ length: PREVIEW_BATCH }, (_, i) => items[i % items.length]?.caption ?? '')
      : undefined;
    let images: Float32Array = new Float32Array(0);
    for (const s of sample(model, this.trainer.diffusion, {
      sampler: 'ddim',
      steps: PREVIEW_STEPS,
      batch: PREVIEW_BATCH,
      labels,
      prompts,
      guidance: 1,
      seed: PREVIEW_SEED,
    })) {
      if (s.index === s.total - 1) images = (await s.sample.data()) as Float32Array;
      else await yieldToEvents();
      if (this.gate.stopRequested) break;
    }
    const names = this.options.classNames ?? [];
    const asked = prompts ?? labels.map((l) => (l === null ? '' : (names[l] ?? String(l))));
    const frame = { step: this.trainer.step, images, batch: PREVIEW_BATCH, asked };
    if (images.length) this.hooks.onPreview?.(frame);
    return frame;
  }

  private async confirm(checkpoint: TrainingCheckpoint): Promise<void> {
    this.lastGood = checkpoint;
    this.candidate = null;
    await this.hooks.onCheckpoint?.(checkpoint);
  }

  /**
   * Why this step shows the run diverging, or null: a NaN/Inf loss or gradient, or a finite loss whose
   * running average has climbed to DIVERGENCE_FACTOR times the lowest it reached in this run (a
   * learning rate far too high sends it to 10¹² without ever making a NaN).
   */
  private divergence(result: StepResult): string | null {
    if (!Number.isFinite(result.loss) || !Number.isFinite(result.gradNorm)) return `the loss became ${result.loss} at step ${result.step}`;
    const average = this.lossAverage === null ? result.loss : 0.9 * this.lossAverage + 0.1 * result.loss;
    this.lossAverage = average;
    this.lowestAverage = Math.min(this.lowestAverage, average);
    return average > DIVERGENCE_FACTOR * this.lowestAverage
      ? `the loss rose from ${this.lowestAverage.toPrecision(3)} to ${average.toPrecision(3)} by step ${result.step}`
      : null;
  }

  /** The run diverged: the weights are poisoned, so go back to the last good checkpoint. */
  private async rollBack(what: string): Promise<StopReason> {
    const good = this.lastGood!;
    const old = this.trainer;
    this.candidate = null;
    this.trainer = await restoreTrainer(good);
    old.model.dispose();
    old.dispose();
    return {
      kind: 'diverged',
      restoredStep: good.step,
      message: `${what} (training diverged: try a lower learning rate or a smaller model); the weights were restored from the checkpoint at step ${good.step}`,
    };
  }

  dispose(): void {
    this.trainer.model.dispose();
    this.trainer.dispose();
  }
}
