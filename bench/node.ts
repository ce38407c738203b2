/**
 * `npm run bench`: the benchmark in Node, by default on the 'cpu' and 'wasm' backends. JSON on stdout,
 * progress on stderr. `BENCH_BACKENDS=wasm npm run bench` measures a subset; `BENCH_BACKENDS=webgpu`
 * measures WebGPU through Dawn (scripts/node-webgpu.ts; no adapter: a message and exit code 2);
 * `BENCH_OPTIONS='{"forwardRuns":1}'` overrides the plans' options (JSON, applied to every backend).
 * Where PyTorch is installed (BENCH_PYTHON, default /usr/bin/python3, must import torch) the same
 * architecture is also trained in PyTorch on this CPU at the wasm plan's batch (tools/torch/bench.py,
 * 2 threads), and `pytorch` holds its figures and tfjs-wasm's ratio to them; otherwise a note says so.
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';
import { DEFAULT_UNET_CONFIG } from '../src/model/config';
import { presetConfig } from '../src/training/presets';
import { NODE_BACKENDS, useCliBackend, type NodeBackendName } from '../scripts/node-backend';
import { installNodeWebGPU, NO_ADAPTER_MESSAGE } from '../scripts/node-webgpu';
import { benchBackend, modelInfo, type BackendResult, type BenchOptions, type BenchReport } from './bench';
import { benchDiffusersForward, type DiffusersForward } from './diffusers';
import { benchTextStep, type TextStep } from './text';
import { countKernels, type KernelCount } from './kernels';

const log = (m: string) => process.stderr.write(`${m}\n`);

/**
 * cpu: its Conv2DBackpropFilter is a naive loop (seconds per image), so training is measured at
 * batch 2 over one timed step after one warm-up step. webgpu: a GPU server's plan (batch 64); on a
 * software adapter the phase budget shrinks it and the time limit skips what would not fit.
 */
const PLANS: Record<NodeBackendName, Partial<BenchOptions>> = {
  cpu: { forwardWarmup: 1, forwardRuns: 3, trainBatch: 2, trainWarmup: 1, trainSteps: 1, matmulWarmup: 1, matmulRuns: 3 },
  wasm: { forwardWarmup: 2, forwardRuns: 7, trainBatch: 16, trainWarmup: 2, trainSteps: 5, matmulWarmup: 2, matmulRuns: 5 },
  webgpu: {
    forwardWarmup: 3,
    forwardRuns: 10,
    trainBatch: 64,
    trainWarmup: 2,
    trainSteps: 5,
    matmulWarmup: 2,
    matmulRuns: 5,
    timeLimitMs: 600_000,
  },
};

/** PyTorch's training and forward throughput for `config` at `batch` on 2 threads, or why not measured. */
type PytorchReference = { trainImagesPerSec: number; forwardMs: number; torch: string; device: string; threads: number; batch: number };

function pytorchReference(batch: number): PytorchReference | { notMeasured: string } {
  const python = process.env.BENCH_PYTHON ?? '/usr/bin/python3';
  try {
    const out = execFileSync(
      python,
      [
        'tools/torch/bench.py',
        '--config',
        JSON.stringify(DEFAULT_UNET_CONFIG),
        '--batch',
        String(batch),
        '--threads',
        '2',
        '--device',
        'cpu',
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 },
    );
    return JSON.parse(out.trim().split('\n').pop()!) as PytorchReference;
  } catch (e) {
    return {
      notMeasured: `PyTorch not measured (${python} tools/torch/bench.py failed: ${(e as Error).message.split('\n')[0]}); apt-get install python3-torch`,
    };
  }
}

export async function main(): Promise<number> {
  const wanted = (process.env.BENCH_BACKENDS ?? 'cpu,wasm')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean) as NodeBackendName[];
  const unknown = wanted.find((name) => !NODE_BACKENDS.includes(name));
  if (unknown !== undefined) throw new Error(`bench/node.ts: unknown backend '${unknown}' (${NODE_BACKENDS.join(', ')})`);
  if (wanted.includes('webgpu') && (await installNodeWebGPU()) === null) {
    console.error(`error: ${NO_ADAPTER_MESSAGE}`); // now, not after minutes on the other backends
    return 2;
  }
  const t0 = performance.now();
  const results: BackendResult[] = [];
  const kernels: KernelCount[] = [];
  let countedAll = false;
  for (const name of wanted) {
    const info = await useCliBackend(name);
    if (info === null) return 2;
    log(`== ${name} (${info})`);
    const overrides = JSON.parse(process.env.BENCH_OPTIONS ?? '{}') as Partial<BenchOptions>;
    results.push(await benchBackend({ ...PLANS[name], phaseBudgetMs: 180_000, ...overrides, log }, info));
    // every architecture once, on wasm (or the last backend asked for); the shipped model on webgpu as
    // well, whose own kernels (one WebGPU program where others run a composite) make its count differ
    const countAll: boolean = !countedAll && (name === 'wasm' || name === wanted[wanted.length - 1]);
    if (countAll || name === 'webgpu') {
      const counts = [await countKernels('shipped', DEFAULT_UNET_CONFIG)];
      if (countAll)
        for (const preset of ['tiny', 'small'] as const)
          for (const [size, ch] of [
            [28, 1],
            [32, 3],
          ] as const)
            counts.push(await countKernels(`${preset} ${size}×${size}×${ch}`, presetConfig(preset, size, ch, 0)));
      countedAll ||= countAll;
      log(`[${name}] kernels (forward / training step): ${counts.map((k) => `${k.name} ${k.forward} / ${k.trainStep}`).join('; ')}`);
      kernels.push(...counts);
    }
  }
  const wasm = results.find((r) => r.backend === 'wasm');
  log('== PyTorch (tools/torch/bench.py, same architecture and batch, 2 threads)');
  const torch = pytorchReference(wasm?.trainBatch ?? 16);
  const pytorch = {
    ...torch,
    ...('trainImagesPerSec' in torch && wasm?.trainImagesPerSec
      ? { wasmTrainRatio: Number((wasm.trainImagesPerSec / torch.trainImagesPerSec).toPrecision(3)) }
      : {}),
  };
  log(`pytorch: ${JSON.stringify(pytorch)}`);
  // the paper's CIFAR-10 layout on wasm beside PyTorch (the 256-px layout, ~2 min more, with BENCH_DIFFUSERS_256=1)
  const diffusers: DiffusersForward[] = [];
  if (wanted.includes('wasm') && (await useCliBackend('wasm')) !== null) {
    log('== diffusers UNet2DModel layouts, batch 1: wasm beside PyTorch (2 threads)');
    diffusers.push(await benchDiffusersForward('ddpm-cifar10-32', 5, log));
    if (process.env.BENCH_DIFFUSERS_256 === '1') diffusers.push(await benchDiffusersForward('ddpm-256', 1, log));
  }
  // the text-to-image model's guided step on wasm beside PyTorch
  let text: TextStep | undefined;
  if (wanted.includes('wasm') && (await useCliBackend('wasm')) !== null) {
    log('== the text-to-image model, one guided step: wasm beside PyTorch (2 threads)');
    text = await benchTextStep(10, log);
  }
  const report: BenchReport = {
    machine: {
      cores: cpus().length,
      node: process.version,
      date: new Date().toISOString(),
      cpu: cpus()[0]?.model ?? 'unknown',
      runtime: 'node',
    },
    model: modelInfo(),
    results,
    kernels,
    pytorch,
    diffusers,
    ...(text ? { text } : {}),
  };
  log(`bench: ${((performance.now() - t0) / 1000).toFixed(1)} s in all`);
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  return 0;
}
