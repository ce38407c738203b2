/**
 * The typed message protocol between the page (React, no tfjs) and the engine worker (all tfjs).
 * Every message names its channel — 'engine' (start-up, GPU warm-up, device failures), 'sampling',
 * 'training', 'models' or 'memorisation' — and each channel has its own sub-union both ways, its own 'error', and
 * its own panel. Images travel as Float32Array in [−1, 1], NHWC, batch-major.
 */
import type { DataFile, DataOptions, DataSummary } from '../data/collection';
import type { DiffusionConfig } from '../diffusion/scheduler';
import type { Timestep } from '../diffusion/timestep';
import type { BackendReport } from '../engine/backend';
import type { RunState } from '../engine/pause-gate';
import type { Closeness } from '../memorisation/nearest';
import type { UNetConfig } from '../model/config';
import type { SamplerName } from '../pipeline/defaults';
import type { TrainSetup } from '../training/recipe';
import type { PreviewFrame, StopReason, TrainProgress } from '../training/session';

export type { RunState } from '../engine/pause-gate';
export type { DataFile, DataSummary } from '../data/collection';
export type { TrainSetup } from '../training/recipe';
export type { Closeness, Verdict } from '../memorisation/nearest';
export type Channel = 'engine' | 'sampling' | 'training' | 'models' | 'memorisation';

/** A batch of images: values [batch·size·size·channels]. */
export interface ImageBatch {
  values: Float32Array;
  batch: number;
  size: number;
  channels: number;
}

export interface ModelInfo {
  config: UNetConfig;
  diffusion: DiffusionConfig;
  metadata: Record<string, unknown>;
  /** Where the weights came from: the shipped file (or a random stand-in when it is missing), this page's training, or a file. */
  source: 'shipped' | 'random' | 'trained' | 'imported';
  numParams: number;
}

/** The batch sizes the page offers for sampling (the GPU warm-up compiles these shapes). */
export const SAMPLE_BATCHES = [1, 4, 16] as const;

export interface SampleSettings {
  sampler: SamplerName;
  /** Steps of a few-step sampler (DDIM, DPM-Solver++); DDPM takes every train timestep. */
  steps: number;
  /** DDIM η. */
  eta: number;
  batch: number;
  /** Class to draw (conditional models); null = unconditional. */
  label: number | null;
  guidance: number;
  seed: number;
}

/** "Denoise from here": the forward panel's x_t (one image, repeated over the batch) at its timestep t. */
export interface SampleStart {
  xt: Float32Array;
  t: Timestep;
}

/** One reverse step's pictures. `keep` marks the steps that belong in the trajectory strip. */
export interface SampleFrame {
  index: number;
  total: number;
  t: Timestep;
  xt: ImageBatch;
  predOriginal: ImageBatch;
  predNoise: ImageBatch;
  keep: boolean;
  /** The meter: the digit classifier's ten probabilities for each image's x̂0 [batch·10] (28×28 grey models only). */
  reads?: Float32Array;
}

/** One sampler's progress in a side-by-side run: its sample, and the time its own steps took so far. */
export interface CompareFrame {
  sampler: SamplerName;
  index: number;
  total: number;
  t: Timestep;
  xt: ImageBatch;
  ms: number;
  reads?: Float32Array;
}

/** A training run saved in this browser (IndexedDB) that can be resumed. */
export interface SavedRunInfo {
  step: number;
  totalSteps: number;
  images: number;
  savedAt: number;
  /** It reached totalSteps: nothing to resume, a model to use. */
  finished: boolean;
  /** The form it was started with (older saves have none). */
  setup: TrainSetup | null;
}

/** A training image near the one asked about. */
export interface NearestImage {
  /** Its index in the training set. */
  index: number;
  /** The class of a shipped digit ("3"), or an upload's file path. */
  name: string;
  /** Euclidean distance: over pixels in [0, 1], or over the classifier's features. */
  distance: number;
  /** Its pixels, size·size·channels bytes. */
  pixels: Uint8Array;
}

/** The data's own nearest-pair distances, summarised (same units as NearestImage.distance). */
export interface Yardstick {
  /** How many training images' nearest neighbours it was measured from. */
  queries: number;
  p01: number;
  p10: number;
  median: number;
}

/** One image's nearest training images, by pixels and (digits) by classifier features, and what their distance says. */
export interface ImageCheck {
  /** The image asked about, as bytes (size·size·channels). */
  query: Uint8Array;
  pixels: { nearest: NearestImage[]; closeness: Closeness | null };
  features: { nearest: NearestImage[]; closeness: Closeness | null } | null;
}

export interface MemorisationResult {
  /** What the images were compared against, in words ("the 9,000 MNIST digits the shipped model was trained on"). */
  description: string;
  count: number;
  size: number;
  channels: number;
  yardsticks: { pixels: Yardstick; features: Yardstick | null };
  checks: ImageCheck[];
}

// ——— page → worker ———

/** `backend`: the page's ?backend= as typed (the worker says when it is not a backend). */
/** `trainDigitsUrl`: the shipped model's training digits (train-digits.json), for the memorisation check. */
export type EngineRequest = { channel: 'engine'; type: 'init'; modelUrl: string; backend?: string; classifierUrl?: string; trainDigitsUrl?: string };

/** `run` is the page's id for the run: every message about it carries it back. */
export type SamplingRequest =
  /** `guidances`: one image per guidance scale, from the same noise (the guidance strip; batch is their count). */
  | { channel: 'sampling'; type: 'start'; run: number; settings: SampleSettings; from?: SampleStart; guidances?: number[] }
  | { channel: 'sampling'; type: 'pause' | 'resume' | 'step' | 'stop' }
  /** Every sampler from the same noise, side by side. */
  | { channel: 'sampling'; type: 'compare'; run: number; settings: SampleSettings }
  /** Minimum milliseconds between steps (0 = as fast as possible). */
  | { channel: 'sampling'; type: 'speed'; delayMs: number };

export type TrainingRequest =
  /** Training data: add files, change size/colour/fit (re-decodes everything kept), or start over. */
  | { channel: 'training'; type: 'addFiles'; files: DataFile[] }
  | { channel: 'training'; type: 'dataOptions'; options: DataOptions }
  | { channel: 'training'; type: 'clearData' }
  | { channel: 'training'; type: 'estimate' | 'start'; setup: TrainSetup }
  | { channel: 'training'; type: 'cancelEstimate' }
  | { channel: 'training'; type: 'resumeSaved' | 'discardSaved' | 'pause' | 'resume' | 'stop' }
  /** The page is being hidden or closed: keep a checkpoint of the current step now. */
  | { channel: 'training'; type: 'keep' };

export type ModelsRequest =
  /** Make the panels run on the trained model (its EMA weights), or on the shipped one again. */
  | { channel: 'models'; type: 'use'; which: 'trained' | 'shipped' }
  | { channel: 'models'; type: 'export' }
  | { channel: 'models'; type: 'import'; files: File[] };

/** `request`: the page's id for the check; its progress and result carry it back. */
export type MemorisationRequest =
  /** The nearest training images of each image (values in [−1, 1] at the model's size): a run's samples. */
  | { channel: 'memorisation'; type: 'check'; request: number; images: ImageBatch }
  /** The same for a picture of the person's own, decoded to the model's size. */
  | { channel: 'memorisation'; type: 'checkFile'; request: number; file: File };

export type ToEngine = EngineRequest | SamplingRequest | TrainingRequest | ModelsRequest | MemorisationRequest;

// ——— worker → page ———

export type EngineEvent =
  | { channel: 'engine'; type: 'ready'; report: BackendReport; warning?: string }
  /**
   * WebGPU only: the GPU kernels (pipelines) sampling needs are compiling, before the first run needs
   * them. `total` is null while they are being listed; the last message has `finished: true` (also
   * after a failure). A run asked for meanwhile starts when it ends.
   */
  | { channel: 'engine'; type: 'warmup'; done: number; total: number | null; finished: boolean }
  /** Something that concerns the whole page (a lost GPU device, a worker that failed to start). */
  | { channel: 'engine'; type: 'error'; message: string };

export type SamplingEvent =
  | { channel: 'sampling'; type: 'state'; run: number; state: RunState }
  | { channel: 'sampling'; type: 'frame'; run: number; frame: SampleFrame }
  | { channel: 'sampling'; type: 'compareFrame'; run: number; frame: CompareFrame }
  | { channel: 'sampling'; type: 'done'; run: number; elapsedMs: number; steps: number }
  | { channel: 'sampling'; type: 'error'; message: string };

export type TrainingEvent =
  | { channel: 'training'; type: 'dataProgress'; done: number; total: number }
  | { channel: 'training'; type: 'data'; summary: DataSummary }
  /** The estimate's steps so far (a big setting takes a while), then its figure (null: cancelled). */
  | { channel: 'training'; type: 'estimateProgress'; done: number; total: number }
  | { channel: 'training'; type: 'estimate'; secondsPer1000Steps: number | null; setup: TrainSetup }
  | { channel: 'training'; type: 'state'; state: RunState; step: number }
  /** Progress, with every [step, loss] since the last message. */
  | { channel: 'training'; type: 'progress'; progress: TrainProgress; losses: [number, number][] }
  | { channel: 'training'; type: 'preview'; frame: PreviewFrame; size: number; channels: number }
  | { channel: 'training'; type: 'stopped'; reason: StopReason }
  /** A run saved by an earlier visit, or null. */
  | { channel: 'training'; type: 'savedRun'; run: SavedRunInfo | null }
  | { channel: 'training'; type: 'error'; message: string };

export type ModelsEvent =
  /** The model the panels run on (at start-up, and whenever it changes). */
  | { channel: 'models'; type: 'active'; model: ModelInfo }
  /** The trained model can be used or exported. */
  | { channel: 'models'; type: 'trained'; available: boolean }
  | { channel: 'models'; type: 'file'; data: ArrayBuffer; name: string }
  | { channel: 'models'; type: 'error'; message: string };

export type MemorisationEvent =
  /** The first check of a training set loads it, reads it with the classifier and measures its nearest pairs. */
  | { channel: 'memorisation'; type: 'progress'; request: number; phase: 'download' | 'features' | 'yardstick'; done: number; total: number }
  | { channel: 'memorisation'; type: 'result'; request: number; result: MemorisationResult }
  | { channel: 'memorisation'; type: 'error'; message: string };

export type FromEngine = EngineEvent | SamplingEvent | TrainingEvent | ModelsEvent | MemorisationEvent;

/**
 * Messages that describe how things stand rather than something that happened: the page keeps the
 * latest of each and replays it to a panel that subscribes later, so nothing races a panel's mount.
 */
export const REPLAYED: readonly string[] = [
  'engine/ready',
  'engine/warmup',
  'sampling/state',
  'training/data',
  'training/state',
  'training/savedRun',
  'models/active',
  'models/trained',
];

export const messageKey = (m: { channel: Channel; type: string }): string => `${m.channel}/${m.type}`;
