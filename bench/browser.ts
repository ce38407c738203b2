/**
 * The in-page half of `npm run bench:browser`: tests/browser/harness.ts exposes runBrowserBench as
 * `window.harness.bench`, and bench/browser-runner.ts calls it once per backend, each in a fresh page.
 */
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendName } from '../src/engine/backend';
import { benchBackend, type BackendResult, type BenchOptions } from './bench';

/** The serialisable part of BenchOptions (page.evaluate cannot pass the log function). */
export type BrowserBenchOptions = Partial<Omit<BenchOptions, 'log'>>;

/** Switches to `backend` (failing if it does not work here), then measures it; progress goes to console.log as "bench: …". */
export async function runBrowserBench(backend: BackendName, options: BrowserBenchOptions = {}): Promise<BackendResult> {
  const report = await selectBackend(backend);
  if (report.backend !== backend) throw new Error(`backend '${backend}' does not work here: ${JSON.stringify(report.skipped)}`);
  let info = report.adapter;
  if (backend === 'wasm')
    info = `wasm, SIMD ${tf.env().getBool('WASM_HAS_SIMD_SUPPORT') ? 'on' : 'off'}, ${report.threads} thread${report.threads === 1 ? ` (${report.threadsNote})` : 's'}`;
  if (backend === 'cpu') info = 'tfjs pure-JS cpu backend';
  return benchBackend({ ...options, log: (m) => console.log(`bench: ${m}`) }, info);
}
