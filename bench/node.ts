/**
 * `npm run bench`: the benchmark in Node on the 'cpu' and 'wasm' backends. JSON on stdout,
 * progress on stderr. `BENCH_BACKENDS=wasm npm run bench` measures a subset;
 * `BENCH_OPTIONS='{"forwardRuns":1}'` overrides the plans' options (JSON, applied to every backend).
 */
import { cpus } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmGradients } from '../src/model/wasm-gradients';
import { benchBackend, modelInfo, type BackendResult, type BenchOptions, type BenchReport } from './bench';

const log = (m: string) => process.stderr.write(`${m}\n`);

/**
 * cpu: its Conv2DBackpropFilter is a naive loop (seconds per image), so training is measured at
 * batch 2 over one timed step after one warm-up step.
 */
const PLANS: Record<string, Partial<BenchOptions>> = {
  cpu: { forwardWarmup: 1, forwardRuns: 3, trainBatch: 2, trainWarmup: 1, trainSteps: 1, matmulWarmup: 1, matmulRuns: 3 },
  wasm: { forwardWarmup: 2, forwardRuns: 7, trainBatch: 16, trainWarmup: 2, trainSteps: 5, matmulWarmup: 2, matmulRuns: 5 },
};

export async function main(): Promise<void> {
  registerWasmGradients(); // the wasm backend lacks two gradient kernels the training step needs
  tf.env().set('IS_TEST', true); // no "install tfjs-node" banner
  const wanted = (process.env.BENCH_BACKENDS ?? 'cpu,wasm').split(',').map((s) => s.trim()).filter(Boolean);
  const t0 = performance.now();
  const results: BackendResult[] = [];
  for (const name of wanted) {
    if (!PLANS[name]) throw new Error(`bench/node.ts: unknown backend '${name}' (cpu, wasm)`);
    if (!(await tf.setBackend(name))) throw new Error(`backend '${name}' failed to initialise`);
    await tf.ready();
    const info =
      name === 'wasm'
        ? `wasm, SIMD ${tf.env().getBool('WASM_HAS_SIMD_SUPPORT') ? 'on' : 'off'}, threads ${tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') ? 'on' : 'off'}`
        : 'tfjs pure-JS cpu backend';
    log(`== ${name} (${info})`);
    const overrides = JSON.parse(process.env.BENCH_OPTIONS ?? '{}') as Partial<BenchOptions>;
    results.push(await benchBackend({ ...PLANS[name], phaseBudgetMs: 180_000, ...overrides, log }, info));
  }
  const report: BenchReport = {
    machine: { cores: cpus().length, node: process.version, date: new Date().toISOString(), cpu: cpus()[0]?.model ?? 'unknown', runtime: 'node' },
    model: modelInfo(),
    results,
  };
  log(`bench: ${((performance.now() - t0) / 1000).toFixed(1)} s in all`);
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}
