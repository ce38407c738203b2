/**
 * The typed message protocol between the page (React, no tfjs) and the engine worker (all tfjs).
 * One discriminated union each way. Images travel as Float32Array in [−1, 1], NHWC, batch-major.
 */
import type { DataOptions } from '../data/dataset';
import type { BackendName, BackendReport } from '../engine/backend';
import type { TrainSetup } from '../training/recipe';
import type { PreviewFrame, StopReason, TrainProgress } from '../training/session';
import type { DiffusionConfig } from '../model/io';
import type { UNetConfig } from '../model/config';
import type { SamplerName } from '../pipeline/sample';

export interface ModelInfo {
  config: UNetConfig;
  diffusion: DiffusionConfig;
  metadata: Record<string, unknown>;
  /** Where the weights came from: the shipped file (or a random stand-in when it is missing), this page's training, or a file. */
  source: 'shipped' | 'random' | 'trained' | 'imported';
  numParams: number;
}

export interface SampleSettings {
  sampler: SamplerName;
  /** DDIM steps. */
  steps: number;
  /** DDIM η. */
  eta: number;
  batch: number;
  /** Class to draw (conditional models); null = unconditional. */
  label: number | null;
  guidance: number;
  seed: number;
  /** Start from the forward panel's current x_t instead of pure noise ("denoise from here"). */
  fromForward?: boolean;
}

/** A batch of images: values [batch·size·size·channels]. */
export interface ImageBatch {
  values: Float32Array;
  batch: number;
  size: number;
  channels: number;
}

/** A file to add to the training set, with its path below what was dropped or picked (for folder labels). */
export interface DataFile {
  file: File;
  path: string;
}

/** What the training set holds now, and what was left out and why. */
export interface DataSummary {
  options: DataOptions;
  count: number;
  classNames: string[];
  /** Images per class ('' = unlabelled). */
  counts: Record<string, number>;
  /** Files that could not be used, each with the reason. */
  rejected: { name: string; reason: string }[];
  /** Files beyond the cap that were not read. */
  overCap: number;
  /** The first images (up to PREVIEW_IMAGES), for the preview grid. */
  preview: ImageBatch;
}

export type { TrainSetup } from '../training/recipe';

/** A training run saved in this browser (IndexedDB) that can be resumed. */
export interface SavedRunInfo {
  step: number;
  totalSteps: number;
  images: number;
  savedAt: number;
}

export type TrainState = 'idle' | 'running' | 'paused';

/** The batch sizes the page offers for sampling (the GPU warm-up compiles these shapes). */
export const SAMPLE_BATCHES = [1, 4, 16] as const;

export type ToEngine =
  | { type: 'init'; modelUrl: string; preferredBackend?: BackendName }
  | { type: 'sample'; settings: SampleSettings }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'step' }
  | { type: 'stop' }
  /** Minimum milliseconds between steps (0 = as fast as possible). */
  | { type: 'speed'; delayMs: number }
  /** Forward process: the clean image x0 for the slider (in [−1, 1], the model's size and channels). */
  | { type: 'forwardImage'; image: ImageBatch }
  | { type: 'forwardNoise'; seed: number }
  /** x_t for a 0-based timestep, or t = −1 for x0 itself. */
  | { type: 'forwardAt'; t: number }
  /** Training data: add files, change size/colour/fit (re-decodes everything kept), or start over. */
  | { type: 'dataAdd'; files: DataFile[] }
  | { type: 'dataOptions'; options: DataOptions }
  | { type: 'dataClear' }
  | { type: 'trainEstimate'; setup: TrainSetup }
  | { type: 'trainStart'; setup: TrainSetup }
  | { type: 'trainResumeSaved' }
  | { type: 'trainPause' }
  | { type: 'trainResume' }
  | { type: 'trainStop' }
  | { type: 'trainDiscardSaved' }
  /** Ask whether an earlier visit saved a run (answered with savedRun); the training panel sends it once it listens. */
  | { type: 'trainSavedQuery' }
  /** Make the panels run on the trained model (its EMA weights), an imported one, or the shipped one again. */
  | { type: 'useModel'; which: 'trained' | 'shipped' }
  | { type: 'exportModel' }
  | { type: 'importModel'; files: File[] };

/** One reverse step's pictures. `keep` marks the steps that belong in the trajectory strip. */
export interface SampleFrame {
  index: number;
  total: number;
  t: number;
  xt: ImageBatch;
  predOriginal: ImageBatch;
  predNoise: ImageBatch;
  keep: boolean;
}

export type RunState = 'idle' | 'running' | 'paused';

export type FromEngine =
  | { type: 'ready'; report: BackendReport; model: ModelInfo; warning?: string }
  | { type: 'state'; state: RunState }
  | { type: 'frame'; frame: SampleFrame }
  | { type: 'done'; elapsedMs: number; steps: number }
  | { type: 'forwardFrame'; t: number; xt: ImageBatch; noise: ImageBatch }
  | { type: 'error'; message: string }
  /**
   * WebGPU only: the GPU kernels (pipelines) sampling needs are compiling, before the first run needs
   * them. `total` is null while they are being listed; the last message has `finished: true` (also
   * after a failure). A run asked for meanwhile starts when it ends.
   */
  | { type: 'warmup'; done: number; total: number | null; finished: boolean }
  /** The panels' model changed (after useModel or importModel). */
  | { type: 'model'; model: ModelInfo }
  | { type: 'dataProgress'; done: number; total: number }
  | { type: 'data'; summary: DataSummary }
  | { type: 'trainEstimate'; secondsPer1000Steps: number; setup: TrainSetup }
  | { type: 'trainState'; state: TrainState; step: number }
  /** Progress, with every [step, loss] since the last message. */
  | { type: 'trainProgress'; progress: TrainProgress; losses: [number, number][] }
  | { type: 'trainPreview'; frame: PreviewFrame; size: number; channels: number }
  | { type: 'trainStopped'; reason: StopReason }
  | { type: 'savedRun'; run: SavedRunInfo | null }
  | { type: 'modelFile'; data: ArrayBuffer; name: string }
  /** A problem with training, importing or exporting (shown in the training panel). */
  | { type: 'trainError'; message: string };
