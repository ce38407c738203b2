import type { Timestep } from '../diffusion/timestep';
import type { RunState } from '../engine/pause-gate';
import type { SamplerName } from '../pipeline/defaults';
import type { ImageBatch } from './images';

/** The 'sampling' channel: the reverse panel's runs. Every message about a run carries the page's id for it. */

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
  /** A text model's prompt ('' or absent: the empty prompt, "anything"). */
  prompt?: string;
  /** A text model: guidance steers away from this prompt instead of from the empty one. */
  negativePrompt?: string;
  /** A text model: a second prompt that takes over from train timestep `at` down (every step with t ≤ at). */
  promptSwitch?: { prompt: string; at: number } | null;
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
  /** The timestep this step denoised (ε̂ and x̂0 are the model's at it). */
  t: Timestep;
  /** The sample after the step, at timestep `at`: the next one the run visits, or null for the clean image x0. */
  xt: ImageBatch;
  at: Timestep | null;
  /** The first step only: the image the run started from (pure noise, or the forward panel's x_t) and its timestep. */
  start?: { xt: ImageBatch; at: Timestep };
  predOriginal: ImageBatch;
  predNoise: ImageBatch;
  keep: boolean;
  /** The meter: the digit classifier's ten probabilities for each image's x̂0 [batch·10] (28×28 grey models only). */
  reads?: Float32Array;
  /** A text model: the first image's cross-attention maps. */
  attention?: AttentionMaps;
}

/**
 * How much each pixel of the first image attended to each token the model read (<start>, then the
 * prompt's known words), averaged over heads and cross-attention layers: maps [size·size·words.length],
 * row-major, token fastest; at each pixel the tokens' weights sum to 1.
 */
export interface AttentionMaps {
  words: string[];
  size: number;
  maps: Float32Array;
}

/** One sampler's progress in a side-by-side run: its sample, and the time its own steps took so far. */
export interface CompareFrame {
  sampler: SamplerName;
  index: number;
  total: number;
  t: Timestep;
  /** As SampleFrame's: the timestep xt is at (null: the clean image). */
  xt: ImageBatch;
  at: Timestep | null;
  ms: number;
  reads?: Float32Array;
}

/** `run` is the page's id for the run (made by the page's SamplingChannel): every message about it carries it back. */
export type SamplingRequest =
  /** `guidances`: one image per guidance scale, from the same noise (the guidance strip; batch is their count). */
  | { channel: 'sampling'; type: 'start'; run: number; settings: SampleSettings; from?: SampleStart; guidances?: number[] }
  | { channel: 'sampling'; type: 'pause' | 'resume' | 'step' | 'stop' }
  /** Every sampler from the same noise, side by side. */
  | { channel: 'sampling'; type: 'compare'; run: number; settings: SampleSettings }
  /** Minimum milliseconds between steps (0 = as fast as possible). */
  | { channel: 'sampling'; type: 'speed'; delayMs: number };

export type SamplingEvent =
  | { channel: 'sampling'; type: 'state'; run: number; state: RunState }
  | { channel: 'sampling'; type: 'frame'; run: number; frame: SampleFrame }
  | { channel: 'sampling'; type: 'compareFrame'; run: number; frame: CompareFrame }
  | { channel: 'sampling'; type: 'done'; run: number; elapsedMs: number; steps: number }
  /**
   * A large model's network pass, timed on this device before its first run (batch 1, one pass;
   * guidance takes two): what a run will cost. `params` names the model it was measured on.
   */
  | { channel: 'sampling'; type: 'speed'; params: number; msPerStep: number }
  | { channel: 'sampling'; type: 'error'; message: string };

export const SAMPLING_STATE = ['state', 'speed'] as const;
