/**
 * The typed message protocol between the page (React, no tfjs) and the engine worker (all tfjs).
 * One discriminated union each way. Images travel as Float32Array in [−1, 1], NHWC, batch-major.
 */
import type { BackendName, BackendReport } from '../engine/backend';
import type { DiffusionConfig } from '../model/io';
import type { UNetConfig } from '../model/config';
import type { SamplerName } from '../pipeline/sample';

export interface ModelInfo {
  config: UNetConfig;
  diffusion: DiffusionConfig;
  metadata: Record<string, unknown>;
  /** Where the weights came from: the shipped file, or a random stand-in when it is missing. */
  source: 'shipped' | 'random';
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
  | { type: 'forwardAt'; t: number };

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
  | { type: 'error'; message: string };
