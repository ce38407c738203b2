import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { yieldToEvents } from '../engine/yield';
import type { DiffusionConfig } from '../diffusion/scheduler';
import type { UNet } from '../model/model';
import { sample, type SampleOptions } from '../pipeline/sample';

/**
 * Shader compilation off the critical path (WebGPU only). tfjs-webgpu compiles a compute pipeline
 * the first time it meets a program with a new key — the key includes ranks, dtypes, broadcasting
 * and size-dependent tiling, so batch 1, 4, 16 and their doubles under guidance each have pipelines
 * of their own — and that compilation, synchronous, is what freezes the first sampling step.
 *
 * Warm-up runs the page's own pipeline code (`sample`) for every shape a run can take with the flag
 * WEBGPU_ENGINE_COMPILE_ONLY set: each program then only starts an asynchronous compilation
 * (`createComputePipelineAsync`, in parallel) and is neither recorded nor submitted, so its output
 * buffer holds nothing (never read it). `checkCompileCompletionAsync` waits for them all.
 */

/** One forward shape of a sampling run: `batch` images, and whether guidance doubles the network's batch. */
export interface WarmupShape {
  batch: number;
  guided: boolean;
}

/** The (pipeline key → pipeline) cache of tfjs-webgpu 4.22; a Promise until its compilation ends. */
type PipelineCache = Record<string, GPUComputePipeline | Promise<GPUComputePipeline>>;

export function pipelineCache(): PipelineCache | null {
  return tf.getBackend() === 'webgpu' ? (tf.backend() as unknown as { pipelineCache: PipelineCache }).pipelineCache : null;
}

/**
 * The shapes the page's sampler can run for a model: every batch it offers; for a conditional model
 * both one pass per step (guidance 1, or no label) and the guided pass on [x, x] (2·batch).
 */
export function samplingShapes(model: UNet, batches: readonly number[]): WarmupShape[] {
  const guided = model.config.numClasses > 0 ? [false, true] : [false];
  return batches.flatMap((batch) => guided.map((g) => ({ batch, guided: g })));
}

/**
 * Every sampler's steps, run twice: the first step starts from x_T made on the CPU, the second from
 * a GPU tensor (tfjs-webgpu runs small CPU-resident inputs on the CPU, so the two steps use different
 * programs); DPM-Solver++'s second step is also its first second-order one. DDIM with η > 0 runs
 * every op of η = 0 plus the noise term; DDPM's last step is a subset of the others.
 */
const RUNS: Pick<SampleOptions, 'sampler' | 'steps' | 'eta'>[] = [
  { sampler: 'ddpm' },
  { sampler: 'ddim', steps: 50, eta: 1 },
  { sampler: 'dpm-solver++', steps: 20 },
];
const STEPS_PER_RUN = 2;
/** Rounds over all shapes at most (two in practice: the second finds nothing new). */
const MAX_ROUNDS = 3;

export interface WarmupResult {
  /** Pipelines compiled by this warm-up (0 when every shape was already warm). */
  pipelines: number;
  ms: number;
}

/**
 * Compiles every pipeline the sampler needs for `shapes`, in parallel, off the first step's path.
 * `onProgress(done, total)`: total is null while the passes are being dispatched, then the number of
 * new pipelines. Nothing else may run tfjs ops until the returned promise settles: a program whose
 * pipeline is still compiling throws. On wasm, webgl and cpu it does nothing and returns null.
 */
export async function warmUpSampling(
  model: UNet,
  diffusion: DiffusionConfig,
  shapes: readonly WarmupShape[],
  onProgress?: (done: number, total: number | null) => void,
  /** More work on each step's x̂0 that runs with sampling (the meter's classifier), compiled with it. */
  onX0?: (x0: tf.Tensor) => void,
): Promise<WarmupResult | null> {
  const cache = pipelineCache();
  if (!cache) return null;
  const started = performance.now();
  const known = new Set(Object.keys(cache));
  const nc = model.config.numClasses;
  onProgress?.(0, null);
  // 1. dispatch every shape's steps with compilation only, yielding between shapes so the worker
  // stays responsive. Again until a round adds no pipeline: where a weight lives changes programs
  // (a small one still on the CPU runs there until a GPU program has used it — e.g. the label
  // embedding once the guided pass has gathered from it), so the first round is not yet the
  // steady state every run after it sees.
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const before = Object.keys(cache).length;
    for (const { batch, guided } of shapes) {
      // a labelled batch with s ≠ 1 takes the guided pass; "no label" or s = 1 the plain one
      const labels = nc > 0 ? new Array<number | null>(batch).fill(0) : undefined;
      const guidance = guided ? 2 : 1;
      tf.env().set('WEBGPU_ENGINE_COMPILE_ONLY', true);
      try {
        for (const run of RUNS) {
          for (const s of sample(model, diffusion, { ...run, batch, labels, guidance, seed: 0 })) {
            onX0?.(s.predOriginalSample);
            if (s.index === STEPS_PER_RUN - 1) break; // return() disposes the generator's tensors
          }
        }
      } finally {
        tf.env().set('WEBGPU_ENGINE_COMPILE_ONLY', false);
      }
      await yieldToEvents();
    }
    if (Object.keys(cache).length === before) break;
  }
  // 2. wait for the compilations, counting them as they end
  const pending = Object.entries(cache).filter(([key, p]) => !known.has(key) && p instanceof Promise) as [
    string,
    Promise<GPUComputePipeline>,
  ][];
  let done = 0;
  onProgress?.(0, pending.length);
  for (const [, p] of pending)
    p.then(
      () => onProgress?.(++done, pending.length),
      () => undefined, // reported by checkCompileCompletionAsync below
    );
  try {
    await (tf.backend() as unknown as WebGPUBackend).checkCompileCompletionAsync();
  } catch (e) {
    // leave no pending (or failed) pipeline in the cache: the next run compiles them the usual way
    for (const [key, p] of pending) if (cache[key] === p) delete cache[key];
    throw e;
  }
  return { pipelines: pending.length, ms: performance.now() - started };
}
