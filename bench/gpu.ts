/**
 * Issue 12's measurements on a real GPU: the page's own pipeline on WebGPU (Dawn, Vulkan) beside the
 * same network in PyTorch eager on the same GPU, in one run. For a GPU machine without Node: pack it
 * here with Node and Dawn, take `.gpu/` and the tracked files there, and run from the repository root:
 *   ../shared/gpu/pack.sh bench/gpu.ts
 *   bash .gpu/run.sh --out DIR [--quick] [--cap-s S] [--deadline-s S] [--python python3] [--torch-device cuda]
 * (or, where Node is, `node scripts/run.mjs bench/gpu.ts --out DIR …`). It loads the shipped model and
 * measures PyTorch parity, kernels per forward pass and training step, the forward pass at batch
 * 1/16/256/1024 (median ms), DDIM-50 at batch 16 and DDPM-1000 at batch 1 (s), training images/s at
 * batch 64 and 256 (Trainer.trainStep), then runs tools/torch/bench.py --suite, and writes everything,
 * with the ratios and the issue's targets, to DIR/gpu-bench.json, rewritten after every phase (GPU time
 * is short: what is measured is kept). Each phase's timed runs stop after --cap-s; a phase that would
 * start after the deadline (less a reserve for PyTorch) is skipped with a note. Progress on stderr.
 * --quick: tiny batches and counts, for a smoke run on a software adapter:
 *   VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json bash .gpu/run.sh --quick --out /tmp/gpuout
 * No adapter: the reason goes to the file and stderr, exit code 2.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend } from '@tensorflow/tfjs-backend-webgpu';
import { unetParams } from '../src/model/flops';
import { loadModel } from '../src/model/io';
import { parseArgs, UsageError } from '../scripts/args';
import { NoAdapterError, useNodeBackend } from '../scripts/node-backend';
import { fileHandler } from '../scripts/node-io';
import { benchDiffusersForward, type DiffusersForward } from './diffusers';
import { countKernels } from './kernels';
import { median, now } from './timing';
import { parity, runPytorch, timeForward, timeSampler, timeTraining, type SamplerTiming } from './gpu-phases';

const USAGE =
  'usage: bash .gpu/run.sh --out DIR [--quick] [--cap-s S] [--deadline-s S] [--python PYTHON] [--torch-device cuda|cpu|auto] [--model DIR]';
const PARITY_FIXTURE = 'tests/fixtures/parity/shipped-mnist-io.json';

/** What each mode measures. */
const PLANS = {
  full: {
    forwardBatches: [1, 16, 256, 1024],
    warmup: 3,
    runs: 20,
    ddim: { steps: 50, batch: 16 },
    ddpmBatch: 1,
    trainBatches: [64, 256],
    trainWarmup: 2,
    trainSteps: 10,
    capS: 45,
    deadlineS: 480,
  },
  quick: {
    forwardBatches: [1, 2],
    warmup: 1,
    runs: 3,
    ddim: { steps: 3, batch: 2 },
    ddpmBatch: 1,
    trainBatches: [1, 2],
    trainWarmup: 1,
    trainSteps: 2,
    capS: 5,
    deadlineS: 600,
  },
};
/** WebGPU errors kept in the report (one bad shader repeats its errors at every dispatch). */
const MAX_ERRORS_KEPT = 10;
/** Deadline time kept for the PyTorch run, s. */
const PYTORCH_RESERVE_S = 120;

const log = (m: string) => process.stderr.write(`${m}\n`);
const round = (x: number, digits = 4) => Number(x.toPrecision(digits));

export async function main(argv: string[]): Promise<number> {
  const quick = argv.includes('--quick');
  let a;
  try {
    a = parseArgs(
      argv.filter((arg) => arg !== '--quick'),
      {
        out: { kind: 'string' },
        'cap-s': { kind: 'number', min: 1, max: 600 },
        'deadline-s': { kind: 'number', min: 10, max: 3600 },
        python: { kind: 'string' },
        'torch-device': { kind: 'string', choices: ['cuda', 'cpu', 'auto'] },
        model: { kind: 'string' },
      },
      { out: '', 'cap-s': 0, 'deadline-s': 0, python: 'python3', 'torch-device': 'cuda', model: 'public/models/mnist' },
    );
    if (a.out === '') throw new UsageError('--out DIR is required');
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`error: ${e.message}\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  const plan = PLANS[quick ? 'quick' : 'full'];
  const capMs = 1000 * (Number(a['cap-s']) || plan.capS);
  const deadlineMs = 1000 * (Number(a['deadline-s']) || plan.deadlineS);
  const file = join(String(a.out), 'gpu-bench.json');
  const t0 = now();

  const tfjs = {
    forwardMs: {} as Record<string, number>,
    forwardMsRuns: {} as Record<string, number[]>,
    ddim: null as SamplerTiming | null,
    ddpm: null as SamplerTiming | null,
    trainImagesPerSec: {} as Record<string, number>,
    trainMsPerStep: {} as Record<string, number[]>,
  };
  const report = {
    started: new Date().toISOString(),
    argv,
    quick,
    machine: {
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      cpus: cpus().length,
      cpu: cpus()[0]?.model ?? 'unknown',
      backend: '',
    },
    model: null as Record<string, unknown> | null,
    parity: null as Record<string, unknown> | null,
    kernels: null as Record<string, unknown> | null,
    tfjs,
    pytorch: null as Record<string, unknown> | null,
    /** How many times slower tfjs-webgpu is than PyTorch (time over time; images/s over images/s inverted). */
    tfjsOverPytorch: {} as Record<string, number>,
    /** The DDPM paper's published layouts (diffusers UNet2DModel), forward at batch 1, tfjs-webgpu beside PyTorch on the GPU (full runs only). */
    diffusers: [] as DiffusersForward[],
    targets: {} as Record<string, { target: string; value: number | null; met: boolean | null }>,
    /** Uncaptured WebGPU errors (validation, out of memory) and device loss, as Dawn reports them: how many, and the first few. */
    webgpuErrors: { count: 0, first: [] as string[] },
    errors: [] as string[],
    notes: [] as string[],
    wallSeconds: 0,
    finished: null as string | null,
  };
  await mkdir(String(a.out), { recursive: true });
  // one write at a time: PyTorch's results arrive while a write may still be under way
  let writing = Promise.resolve();
  const flush = () =>
    (writing = writing.then(() => {
      report.wallSeconds = round((now() - t0) / 1000);
      return writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
    }));

  try {
    report.machine.backend = await useNodeBackend('webgpu');
  } catch (e) {
    const message = e instanceof NoAdapterError ? e.message : `webgpu failed to start: ${(e as Error).message}`;
    report.errors.push(message);
    await flush();
    console.error(`error: ${message}`);
    return 2;
  }
  const device = (tf.backend() as WebGPUBackend).device;
  const webgpuError = (message: string) => {
    if (report.webgpuErrors.count++ < MAX_ERRORS_KEPT) report.webgpuErrors.first.push(message);
  };
  device.addEventListener('uncapturederror', (e) => webgpuError(e.error.message));
  void device.lost.then((info) => webgpuError(`device lost (${info.reason}): ${info.message}`));
  const { model, diffusion, metadata } = await loadModel(fileHandler(String(a.model)));
  report.model = { path: a.model, config: model.config, params: unetParams(model.config), metadata };

  /** Runs a phase unless the deadline (less the PyTorch reserve) is near; records its failure and goes on. */
  const phase = async (name: string, body: () => Promise<void>) => {
    if (now() - t0 + capMs > deadlineMs - PYTORCH_RESERVE_S * 1000) {
      report.notes.push(`${name}: skipped, the ${deadlineMs / 1000} s deadline is near`);
      return;
    }
    log(`== ${name} (${((now() - t0) / 1000).toFixed(0)} s)`);
    try {
      await body();
    } catch (e) {
      report.errors.push(`${name}: ${(e as Error).message}`);
      log(`${name} failed: ${(e as Error).message}`);
    }
    await flush();
  };

  await phase('PyTorch parity', async () => {
    const p = await parity(model, PARITY_FIXTURE);
    report.parity = { fixture: PARITY_FIXTURE, ...p, tolerance: 1e-4 };
    log(`max |tfjs − PyTorch| = ${p.maxAbsError.toExponential(2)}`);
  });
  await phase('kernels', async () => {
    const k = await countKernels('shipped', model.config);
    report.kernels = { forward: k.forward, trainStep: k.trainStep, trainStepByKernel: k.trainStepByKernel };
    log(`kernels: forward ${k.forward}, training step ${k.trainStep}`);
  });
  for (const batch of plan.forwardBatches)
    await phase(`forward batch ${batch}`, async () => {
      const ms = await timeForward(model, batch, { warmup: plan.warmup, runs: plan.runs, capMs });
      tfjs.forwardMs[batch] = round(median(ms));
      tfjs.forwardMsRuns[batch] = ms.map((m) => round(m));
      log(`forward batch ${batch}: median ${median(ms).toFixed(2)} ms of ${ms.length}`);
    });
  await phase(`DDIM-${plan.ddim.steps} batch ${plan.ddim.batch}`, async () => {
    tfjs.ddim = await timeSampler(model, diffusion, 'ddim', plan.ddim.steps, plan.ddim.batch, capMs);
    log(`DDIM: ${tfjs.ddim.seconds.toFixed(2)} s`);
  });
  await phase(`DDPM-${diffusion.numTrainTimesteps} batch ${plan.ddpmBatch}`, async () => {
    tfjs.ddpm = await timeSampler(model, diffusion, 'ddpm', diffusion.numTrainTimesteps, plan.ddpmBatch, capMs);
    log(`DDPM: ${tfjs.ddpm.seconds.toFixed(2)} s${tfjs.ddpm.note ? ` (${tfjs.ddpm.note})` : ''}`);
  });
  for (const batch of plan.trainBatches)
    await phase(`training batch ${batch}`, async () => {
      const ms = await timeTraining(model, batch, { warmup: plan.trainWarmup, steps: plan.trainSteps, capMs });
      tfjs.trainImagesPerSec[batch] = round((batch * ms.length) / (ms.reduce((s, m) => s + m, 0) / 1000));
      tfjs.trainMsPerStep[batch] = ms.map((m) => round(m));
      log(`training batch ${batch}: ${tfjs.trainImagesPerSec[batch]} images/s`);
    });
  model.dispose();
  if (!quick)
    for (const layout of ['ddpm-cifar10-32', 'ddpm-256'] as const)
      await phase(`diffusers layout ${layout}`, async () => {
        report.diffusers.push(
          await benchDiffusersForward(layout, plan.runs, log, { python: String(a.python), torchDevice: String(a['torch-device']) }),
        );
      });

  log(`== PyTorch: ${a.python} tools/torch/bench.py --suite --device ${a['torch-device']} (${((now() - t0) / 1000).toFixed(0)} s)`);
  const torchArgs = [
    '--config',
    JSON.stringify(model.config),
    '--device',
    String(a['torch-device']),
    '--suite',
    '--cap-s',
    String(capMs / 1000),
    '--forward-batches',
    plan.forwardBatches.join(','),
    '--runs',
    String(plan.runs),
    '--warmup',
    String(plan.warmup),
    '--ddpm-batch',
    String(plan.ddpmBatch),
    '--ddim-batch',
    String(plan.ddim.batch),
    '--ddim-steps',
    String(plan.ddim.steps),
    '--timesteps',
    String(diffusion.numTrainTimesteps),
    '--train-batches',
    plan.trainBatches.join(','),
    '--steps',
    String(plan.trainSteps),
  ];
  const failed = await runPytorch(String(a.python), torchArgs, Math.max(30_000, deadlineMs - (now() - t0)), (result) => {
    report.pytorch = result;
    void flush();
  });
  if (failed !== null) {
    report.errors.push(`PyTorch: ${failed}`);
    log(`PyTorch: ${failed}`);
  }
  ratiosAndTargets(report);
  report.finished = new Date().toISOString();
  await flush();
  log(`wrote ${file} (${report.wallSeconds} s)`);
  return 0;
}

/** Fills tfjsOverPytorch (where both sides measured the figure) and the issue's targets. */
function ratiosAndTargets(report: {
  tfjs: {
    forwardMs: Record<string, number>;
    ddim: SamplerTiming | null;
    ddpm: SamplerTiming | null;
    trainImagesPerSec: Record<string, number>;
  };
  pytorch: Record<string, unknown> | null;
  parity: Record<string, unknown> | null;
  kernels: Record<string, unknown> | null;
  tfjsOverPytorch: Record<string, number>;
  targets: Record<string, { target: string; value: number | null; met: boolean | null }>;
}): void {
  const { tfjs } = report;
  const pt = (report.pytorch ?? {}) as {
    forwardMs?: Record<string, number>;
    ddim?: { seconds: number };
    ddpm?: { seconds: number };
    trainImagesPerSec?: Record<string, number>;
  };
  for (const [b, ms] of Object.entries(tfjs.forwardMs))
    if (pt.forwardMs?.[b]) report.tfjsOverPytorch[`forwardBatch${b}`] = round(ms / pt.forwardMs[b], 3);
  if (tfjs.ddim && pt.ddim) report.tfjsOverPytorch.ddim = round(tfjs.ddim.seconds / pt.ddim.seconds, 3);
  if (tfjs.ddpm && pt.ddpm) report.tfjsOverPytorch.ddpm = round(tfjs.ddpm.seconds / pt.ddpm.seconds, 3);
  for (const [b, ips] of Object.entries(tfjs.trainImagesPerSec))
    if (pt.trainImagesPerSec?.[b]) report.tfjsOverPytorch[`trainBatch${b}`] = round(pt.trainImagesPerSec[b] / ips, 3);
  const target = (text: string, value: number | null | undefined, ok: (v: number) => boolean) => ({
    target: text,
    value: value ?? null,
    met: value == null ? null : ok(value),
  });
  report.targets = {
    kernelsPerForward: target('≤ 90', report.kernels?.forward as number | undefined, (v) => v <= 90),
    parityMaxAbsError: target('≤ 1e-4', report.parity?.maxAbsError as number | undefined, (v) => v <= 1e-4),
    forwardMsBatch1: target('≤ 6 ms (H200-class GPU)', tfjs.forwardMs[1], (v) => v <= 6),
    ddpm1000Seconds: target('≤ 6 s at batch 1 (H200-class GPU)', tfjs.ddpm?.seconds, (v) => v <= 6),
    trainImagesPerSecBatch256: target('≥ 2,000 (H200-class GPU)', tfjs.trainImagesPerSec[256], (v) => v >= 2000),
  };
}
