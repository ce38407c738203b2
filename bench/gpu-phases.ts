/**
 * The measurements of bench/gpu.ts, on the active backend. Every timing ends on `await tensor.data()`
 * (the GPU sync); each phase stops taking timed runs once its cap is spent (at least one is made).
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_DIFFUSION, type DiffusionConfig } from '../src/diffusion/scheduler';
import { UNet } from '../src/model/model';
import type { SamplerName } from '../src/pipeline/defaults';
import { sample } from '../src/pipeline/sample';
import { Trainer } from '../src/training/trainer';
import { modelInputs, now, timed } from './timing';

/** ms of each timed forward pass at `batch`, after `warmup` untimed ones (shader compilation). */
export async function timeForward(model: UNet, batch: number, o: { warmup: number; runs: number; capMs: number }): Promise<number[]> {
  const { x, t, labels } = modelInputs(model.config, batch);
  const run = () => timed(() => model.predict(x, t, { labels }));
  for (let i = 0; i < o.warmup; i++) await run();
  const ms: number[] = [];
  const t0 = now();
  while (ms.length < o.runs && (ms.length === 0 || now() - t0 < o.capMs)) ms.push(await run());
  tf.dispose([x, t, ...(labels ? [labels] : [])]);
  return ms;
}

export interface SamplerTiming {
  batch: number;
  steps: number;
  /** Steps actually timed; fewer than `steps` when the cap stopped the run. */
  stepsTimed: number;
  /** The whole run, s (extrapolated from stepsTimed when the cap stopped it). */
  seconds: number;
  note?: string;
}

/**
 * The timed sampler run reads x back after steps 1, 2, 4, … and then every SYNC_EVERY steps: the clock
 * is only worth looking at after a sync, and a slow adapter must not overrun the cap by 25 steps.
 */
const SYNC_EVERY = 25;

/**
 * One whole reverse process through the page's pipeline (src/pipeline/sample.ts: guidance 1, η 0),
 * after a 2-step warm-up that compiles the scheduler's shaders (the network's are compiled by then).
 */
export async function timeSampler(
  model: UNet,
  diffusion: DiffusionConfig,
  sampler: SamplerName,
  steps: number,
  batch: number,
  capMs: number,
): Promise<SamplerTiming> {
  const options = {
    sampler,
    steps,
    eta: 0,
    guidance: 1,
    seed: 0,
    batch,
    labels: Array.from({ length: batch }, (_, i) => i % Math.max(1, model.config.numClasses)),
  };
  for (const step of sample(model, diffusion, options)) {
    await step.sample.data();
    if (step.index === 1) break; // return() frees the run's tensors
  }
  const t0 = now();
  let done = 0;
  let total = 0;
  let nextSync = 1;
  for (const step of sample(model, diffusion, options)) {
    [done, total] = [step.index + 1, step.total];
    if (done === total || done === nextSync) {
      await step.sample.data();
      if (done < total && now() - t0 > capMs) break;
      nextSync = Math.min(done + SYNC_EVERY, 2 * done);
    }
  }
  const seconds = (now() - t0) / 1000;
  const timing: SamplerTiming = { batch, steps: total, stepsTimed: done, seconds: Number(((seconds * total) / done).toPrecision(4)) };
  if (done < total) timing.note = `${done} of ${total} steps timed (cap ${capMs / 1000} s), the rest extrapolated`;
  return timing;
}

/** ms of each timed Trainer.trainStep (forward, backward, clipping, Adam, EMA) of a fresh `config` model at `batch`. */
export async function timeTraining(model: UNet, batch: number, o: { warmup: number; steps: number; capMs: number }): Promise<number[]> {
  const fresh = UNet.create(model.config, 0);
  const trainer = new Trainer(fresh, DEFAULT_DIFFUSION);
  const { x, t, labels, labelList } = modelInputs(model.config, batch);
  const x0 = tf.tidy(() => tf.clipByValue(x, -1, 1));
  tf.dispose([x, t, ...(labels ? [labels] : [])]);
  const step = async () => {
    const t0 = now();
    await trainer.trainStep(x0, model.config.numClasses > 0 ? labelList : undefined); // awaits the loss, after the whole step
    return now() - t0;
  };
  for (let i = 0; i < o.warmup; i++) await step();
  const ms: number[] = [];
  const t0 = now();
  while (ms.length < o.steps && (ms.length === 0 || now() - t0 < o.capMs)) ms.push(await step());
  x0.dispose();
  trainer.dispose();
  fresh.dispose();
  return ms;
}

/** max |tfjs − PyTorch| of the forward pass on the fixture's inputs (tools/torch/export.py wrote them with the weights). */
export async function parity(model: UNet, ioPath: string): Promise<{ maxAbsError: number; maxAbsOutput: number; values: number }> {
  const io = JSON.parse(await readFile(ioPath, 'utf8')) as {
    x: number[];
    shape: [number, number, number, number];
    t: number[];
    labels: number[] | null;
    y: number[];
  };
  const x = tf.tensor4d(io.x, io.shape);
  const t = tf.tensor1d(io.t);
  const labels = io.labels ? tf.tensor1d(io.labels, 'int32') : undefined;
  const y = model.predict(x, t, labels ? { labels } : {});
  const got = await y.data();
  tf.dispose([x, t, y, ...(labels ? [labels] : [])]);
  let maxAbsError = 0;
  for (let i = 0; i < got.length; i++) maxAbsError = Math.max(maxAbsError, Math.abs(got[i] - io.y[i]));
  return { maxAbsError, maxAbsOutput: Math.max(...io.y.map(Math.abs)), values: got.length };
}

/**
 * tools/torch/bench.py --suite in a child process (its progress goes to stderr). It prints a JSON line
 * after every phase; each reaches `onResult` as it comes, so a timeout or a crash keeps what was measured.
 * Resolves with why it failed, or null.
 */
export function runPytorch(
  python: string,
  args: string[],
  timeoutMs: number,
  onResult: (result: Record<string, unknown>) => void,
): Promise<string | null> {
  return new Promise((resolve) => {
    const child = spawn(python, ['tools/torch/bench.py', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let pending = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop()!;
      for (const line of lines) if (line.startsWith('{')) onResult(JSON.parse(line) as Record<string, unknown>);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-2000);
      process.stderr.write(chunk);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => resolve(`${python} could not run: ${e.message}`));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const lastLine = stderr.trim().split('\n').pop() ?? '';
      if (signal)
        resolve(
          `${python} tools/torch/bench.py stopped by ${signal}${signal === 'SIGKILL' ? ` after the ${timeoutMs / 1000} s limit` : ''}`,
        );
      else resolve(code === 0 ? null : `${python} tools/torch/bench.py exited with code ${code}: ${lastLine}`);
    });
  });
}
