/**
 * The backend benchmark, backend-agnostic: it measures whatever tfjs backend is active when it is
 * called (Node: bench/node.ts; headless Chromium: bench/browser.ts via tests/browser/harness.ts).
 * Every timing waits for `await tensor.data()`, so GPU work is synchronised; no dataSync anywhere.
 */
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_UNET_CONFIG, type ModelConfig } from '../src/model/config';
import { unetFlops, unetParams } from '../src/model/flops';
import { DEFAULT_DIFFUSION } from '../src/diffusion/scheduler';
import { UNet } from '../src/model/model';
import { Trainer } from '../src/training/trainer';
import type { DiffusersForward } from './diffusers';
import type { KernelCount } from './kernels';
import type { TextStep } from './text';
import { median, modelInputs, now, timed } from './timing';

export interface BenchOptions {
  /** The U-Net to measure (default: the shipped model's architecture). */
  config: ModelConfig;
  /** Forward passes: untimed warm-up runs (at least 1), then timed runs (the median is reported), per batch size. */
  forwardWarmup: number;
  forwardRuns: number;
  /** Training: batch size (null skips training), untimed warm-up steps, timed steps. */
  trainBatch: number | null;
  trainWarmup: number;
  trainSteps: number;
  /** The reference matMul: n×n · n×n float32, warm-up and timed runs (median). */
  matmulSize: number;
  matmulWarmup: number;
  matmulRuns: number;
  /**
   * Soft budget, in ms, for the timed runs of each phase (warm-ups are not counted). Timed runs stop
   * when the next one would overrun it (at least one is made), and the training batch is halved until
   * its timed steps (predicted as 3 forward passes each) fit. Shrinking is reported in details.notes.
   */
  phaseBudgetMs: number;
  /**
   * Time limit for this backend's whole bench, in ms (a safety net for slow software GPUs). The optional
   * phases, batch-16 forward and training, are skipped (with a note) when their predicted duration,
   * warm-up included, would overrun it. First-run overhead (shader compilation) is predicted from
   * the batch-1 warm-up, so the prediction is crude: set this with a margin.
   */
  timeLimitMs: number;
  /** Progress messages (Node: stderr; browser: console). */
  log: (message: string) => void;
}

export const DEFAULT_BENCH_OPTIONS: BenchOptions = {
  config: DEFAULT_UNET_CONFIG,
  forwardWarmup: 2,
  forwardRuns: 7,
  trainBatch: 16,
  trainWarmup: 2,
  trainSteps: 5,
  matmulSize: 1024,
  matmulWarmup: 2,
  matmulRuns: 5,
  phaseBudgetMs: 120_000,
  timeLimitMs: Infinity,
  log: () => {},
};

/** The figures asked for in issue 3, for one backend. null = not measured (see details.notes). */
export interface BackendResult {
  backend: string;
  /** Median ms of one forward pass (until `await y.data()` resolves), batch 1 and batch 16. */
  forwardMsBatch1: number | null;
  forwardMsBatch16: number | null;
  /** Trainer.trainStep throughput (Adam + grad clipping + EMA update), at batch trainBatch. */
  trainImagesPerSec: number | null;
  trainBatch: number | null;
  /** GFLOP/s of a matmulSize² float32 matMul (2·n³ FLOPs), median. */
  matmulGflops: number;
  /** GFLOP/s of the batch-16 forward pass (analytic FLOPs from src/model/flops.ts / median time). */
  forwardGflops: number | null;
  /** forwardGflops / matmulGflops. */
  fractionOfMatmulPeak: number | null;
  details: {
    /** e.g. the GPU adapter or wasm SIMD/threads. */
    info: string | null;
    forwardWarmup: number;
    forwardMsRunsBatch1: number[];
    forwardMsRunsBatch16: number[];
    trainWarmup: number;
    trainMsPerStep: number[];
    matmulSize: number;
    matmulMsRuns: number[];
    /** Wall time of this backend's whole bench, s. */
    wallSeconds: number;
    notes: string[];
  };
}

export interface ModelInfo {
  config: ModelConfig;
  params: number;
  /** Multiply-add FLOPs (×2) of one forward pass at batch 1, in GFLOP. */
  gflopsPerForward: number;
}

export interface MachineInfo {
  cores: number;
  node: string;
  date: string;
  [key: string]: unknown;
}

export interface BenchReport {
  machine: MachineInfo;
  model: ModelInfo;
  results: BackendResult[];
  /** tfjs kernels per forward pass and per training step (tf.profile), per architecture. */
  kernels?: KernelCount[];
  /** The shipped architecture in PyTorch on the same CPU, same batch as wasm's training (Node only). */
  pytorch?: Record<string, unknown>;
  /** The DDPM paper's published layouts (diffusers UNet2DModel), forward at batch 1 on wasm beside PyTorch (Node only). */
  diffusers?: DiffusersForward[];
  /** The text-to-image model's guided step on wasm beside PyTorch (Node only). */
  text?: TextStep;
}

export function modelInfo(config: ModelConfig = DEFAULT_UNET_CONFIG): ModelInfo {
  return { config, params: unetParams(config), gflopsPerForward: unetFlops(config, 1).total / 1e9 };
}

const round = (x: number, digits = 3): number => Number(x.toPrecision(digits));

export async function benchBackend(partial: Partial<BenchOptions> = {}, info: string | null = null): Promise<BackendResult> {
  const o: BenchOptions = { ...DEFAULT_BENCH_OPTIONS, ...partial };
  const backend = tf.getBackend();
  const log = (m: string) => o.log(`[${backend}] ${m}`);
  const notes: string[] = [];
  const start = now();
  const tensorsBefore = tf.memory().numTensors;
  const perImageFlops = unetFlops(o.config, 1).total;

  // 1. reference: a large float32 matMul
  log(`matMul ${o.matmulSize}×${o.matmulSize}`);
  const n = o.matmulSize;
  const a = tf.randomNormal([n, n], 0, 1, 'float32', 2);
  const b = tf.randomNormal([n, n], 0, 1, 'float32', 3);
  for (let i = 0; i < o.matmulWarmup; i++) await timed(() => tf.matMul(a, b));
  const matmulMsRuns: number[] = [];
  for (let i = 0; i < o.matmulRuns; i++) matmulMsRuns.push(await timed(() => tf.matMul(a, b)));
  tf.dispose([a, b]);
  const matmulGflops = (2 * n ** 3) / (median(matmulMsRuns) / 1000) / 1e9;
  log(`matMul: ${matmulMsRuns.map((m) => m.toFixed(1)).join(', ')} ms → ${matmulGflops.toFixed(2)} GFLOP/s`);

  // 2. forward passes, batch 1 then batch 16
  const model = UNet.create(o.config, 0);
  let firstWarmupMs = 0; // the very first forward pass: compiles every shader / JITs every kernel of the forward
  const forward = async (batch: number): Promise<number[]> => {
    const { x, t, labels } = modelInputs(o.config, batch);
    const run = () => timed(() => model.predict(x, t, { labels }));
    // at least one warm-up run: shader compilation, allocation, JIT
    for (let i = 0; i < Math.max(1, o.forwardWarmup); i++) {
      const ms = await run();
      if (firstWarmupMs === 0) firstWarmupMs = ms;
      log(`forward batch ${batch}: warm-up run ${ms.toFixed(0)} ms`);
    }
    // the first timed run predicts the others: stop once the next one would overrun the phase budget
    const ms: number[] = [await run()];
    while (ms.length < o.forwardRuns && ms.reduce((s, m) => s + m, 0) + ms[0] <= o.phaseBudgetMs) ms.push(await run());
    if (ms.length < o.forwardRuns)
      notes.push(`forward batch ${batch}: ${ms.length} timed runs instead of ${o.forwardRuns} (phase budget ${o.phaseBudgetMs / 1000} s)`);
    tf.dispose([x, t, ...(labels ? [labels] : [])]);
    log(`forward batch ${batch}: ${ms.map((m) => m.toFixed(1)).join(', ')} ms`);
    return ms;
  };
  const forwardMsRunsBatch1 = await forward(1);
  let forwardMsRunsBatch16: number[] = [];
  // a batch-16 pass costs at most about 16 batch-1 passes; a new shape may compile new shaders
  const b1 = median(forwardMsRunsBatch1);
  const overheadMs = Math.max(0, firstWarmupMs - b1);
  if (now() - start + overheadMs + 16 * b1 * (Math.max(1, o.forwardWarmup) + 1) > o.timeLimitMs)
    notes.push(`forward batch 16 skipped: predicted to overrun the time limit (${(o.timeLimitMs / 1000).toFixed(0)} s)`);
  else forwardMsRunsBatch16 = await forward(16);
  const forwardMsBatch1 = b1;
  const forwardMsBatch16 = forwardMsRunsBatch16.length ? median(forwardMsRunsBatch16) : null;
  const forwardGflops = forwardMsBatch16 === null ? null : (16 * perImageFlops) / (forwardMsBatch16 / 1000) / 1e9;
  model.dispose();

  // 3. training steps (Trainer.trainStep: forward + backward + Adam + clipping + EMA)
  let trainBatch = o.trainBatch;
  const trainMsPerStep: number[] = [];
  let trainImagesPerSec: number | null = null;
  if (trainBatch !== null) {
    // a training step is ~3 forward passes; predict from the forward timings, halve the batch to fit
    const perImageForwardMs = forwardMsBatch16 !== null ? forwardMsBatch16 / 16 : forwardMsBatch1;
    const predictMs = (batch: number) => 3 * perImageForwardMs * batch * o.trainSteps;
    const wanted = trainBatch;
    while (trainBatch > 1 && predictMs(trainBatch) > o.phaseBudgetMs) trainBatch = Math.max(1, trainBatch >> 1);
    if (trainBatch !== wanted) notes.push(`training batch ${trainBatch} instead of ${wanted} (phase budget ${o.phaseBudgetMs / 1000} s)`);
    // the backward pass compiles about as many new shaders as the forward did
    if (now() - start + 1.5 * overheadMs + 3 * perImageForwardMs * trainBatch * (o.trainWarmup + o.trainSteps) > o.timeLimitMs) {
      notes.push(`training skipped: predicted to overrun the time limit (${(o.timeLimitMs / 1000).toFixed(0)} s)`);
      trainBatch = null;
    }
  }
  if (trainBatch !== null) {
    const trainModel = UNet.create(o.config, 0);
    const trainer = new Trainer(trainModel, DEFAULT_DIFFUSION);
    const { x, t, labels, labelList } = modelInputs(o.config, trainBatch);
    tf.dispose([t, ...(labels ? [labels] : [])]);
    const x0 = tf.tidy(() => tf.clipByValue(x, -1, 1));
    x.dispose();
    const step = async () => {
      const t0 = now();
      await trainer.trainStep(x0, o.config.numClasses > 0 ? labelList : undefined);
      return now() - t0;
    };
    for (let i = 0; i < o.trainWarmup; i++) log(`train batch ${trainBatch}: warm-up step ${(await step()).toFixed(0)} ms`);
    trainMsPerStep.push(await step());
    while (trainMsPerStep.length < o.trainSteps && trainMsPerStep.reduce((s, m) => s + m, 0) + trainMsPerStep[0] <= o.phaseBudgetMs)
      trainMsPerStep.push(await step());
    if (trainMsPerStep.length < o.trainSteps)
      notes.push(`training: ${trainMsPerStep.length} timed steps instead of ${o.trainSteps} (phase budget ${o.phaseBudgetMs / 1000} s)`);
    log(`train batch ${trainBatch}: ${trainMsPerStep.map((m) => m.toFixed(0)).join(', ')} ms/step`);
    const total = trainMsPerStep.reduce((s, m) => s + m, 0);
    trainImagesPerSec = (trainBatch * trainMsPerStep.length) / (total / 1000);
    x0.dispose();
    trainer.dispose();
    trainModel.dispose();
  }

  const leaked = tf.memory().numTensors - tensorsBefore;
  if (leaked !== 0) notes.push(`${leaked} tensors left over after the bench`);
  const wallSeconds = (now() - start) / 1000;
  log(`done in ${wallSeconds.toFixed(1)} s`);
  const r2 = (xs: number[]) => xs.map((m) => round(m, 4));
  return {
    backend,
    forwardMsBatch1: round(forwardMsBatch1),
    forwardMsBatch16: forwardMsBatch16 === null ? null : round(forwardMsBatch16),
    trainImagesPerSec: trainImagesPerSec === null ? null : round(trainImagesPerSec),
    trainBatch,
    matmulGflops: round(matmulGflops),
    forwardGflops: forwardGflops === null ? null : round(forwardGflops),
    fractionOfMatmulPeak: forwardGflops === null ? null : round(forwardGflops / matmulGflops),
    details: {
      info,
      forwardWarmup: Math.max(1, o.forwardWarmup),
      forwardMsRunsBatch1: r2(forwardMsRunsBatch1),
      forwardMsRunsBatch16: r2(forwardMsRunsBatch16),
      trainWarmup: trainBatch === null ? 0 : o.trainWarmup,
      trainMsPerStep: r2(trainMsPerStep),
      matmulSize: n,
      matmulMsRuns: r2(matmulMsRuns),
      wallSeconds: round(wallSeconds),
      notes,
    },
  };
}
