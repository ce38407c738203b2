/**
 * `npm run bench:browser`: builds nothing itself (the npm script first runs `DDPM_HARNESS=1 vite build`
 * into node_modules/.bench/dist-test, so a concurrent `npm run test:browser` keeps its own dist-test),
 * serves that on 127.0.0.1 and runs bench/browser.ts in headless Chromium (WebGPU and WebGL on
 * SwiftShader, i.e. on the CPU) for webgpu, webgl, wasm and cpu (forward only), one fresh page each.
 * JSON on stdout, progress on stderr. `BENCH_BACKENDS=webgl,wasm` measures a subset;
 * `BENCH_OPTIONS='{"forwardRuns":1}'` overrides the plans' options (JSON, applied to every backend).
 */
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { CHROMIUM_PATH, launchChromium } from '../tests/browser/chromium';
import { serveStatic } from '../tests/browser/serve';
import type { BackendName } from '../src/engine/backend';
import { modelInfo, type BackendResult, type BenchReport } from './bench';
import type { BrowserBenchOptions } from './browser';

const log = (m: string) => process.stderr.write(`${m}\n`);

/**
 * Per-backend plans, sized so the whole run stays under 10 minutes on 2 cores with a software GPU
 * even while other jobs load the CPU. Measured there: a batch-1 forward takes ~3.5 s on WebGPU
 * (SwiftShader) and a batch-16 one ~40 s; the first pass at each new shape spends 15–50 s compiling
 * shaders on WebGPU and WebGL alike. So the GPU backends train at batch 1, which reuses the shaders
 * compiled for the batch-1 forward (only the backward pass compiles anew), and their throughput per
 * image at batch 1 was within ~20% of batch 4. phaseBudgetMs caps the timed runs of each phase and
 * timeLimitMs the whole backend (see bench.ts; the runner derives the latter from BENCH_DEADLINE_S).
 */
const PLANS: Record<BackendName, BrowserBenchOptions> = {
  webgpu: {
    forwardWarmup: 1,
    forwardRuns: 2,
    trainBatch: 1,
    trainWarmup: 1,
    trainSteps: 2,
    matmulWarmup: 1,
    matmulRuns: 2,
    phaseBudgetMs: 60_000,
  },
  webgl: {
    forwardWarmup: 1,
    forwardRuns: 2,
    trainBatch: 1,
    trainWarmup: 1,
    trainSteps: 3,
    matmulWarmup: 1,
    matmulRuns: 3,
    phaseBudgetMs: 60_000,
  },
  wasm: {
    forwardWarmup: 2,
    forwardRuns: 5,
    trainBatch: 16,
    trainWarmup: 1,
    trainSteps: 3,
    matmulWarmup: 1,
    matmulRuns: 3,
    phaseBudgetMs: 60_000,
  },
  cpu: { forwardWarmup: 1, forwardRuns: 2, trainBatch: null, matmulWarmup: 0, matmulRuns: 2, phaseBudgetMs: 25_000 },
};
/** Time to keep in hand for each backend still to run (its typical duration under load), ms. */
const RESERVE_MS: Record<BackendName, number> = { webgpu: 240_000, webgl: 160_000, wasm: 40_000, cpu: 50_000 };
/** The whole run's deadline (the slow phases of later backends are skipped to meet it). */
const DEADLINE_MS = Number(process.env.BENCH_DEADLINE_S ?? 540) * 1000;

async function benchInPage(page: Page, baseUrl: string, backend: BackendName, timeLimitMs: number): Promise<BackendResult> {
  await page.goto(`${baseUrl}/harness.html`);
  await page.waitForFunction(() => document.title === 'harness ready');
  const plan: BrowserBenchOptions = {
    ...PLANS[backend],
    timeLimitMs,
    ...(JSON.parse(process.env.BENCH_OPTIONS ?? '{}') as Partial<BrowserBenchOptions>),
  };
  return page.evaluate(([name, options]) => window.harness.bench(name, options), [backend, plan] as const);
}

export async function main(): Promise<void> {
  const t0 = performance.now();
  const dist = resolve(process.env.BENCH_DIST ?? 'node_modules/.bench/dist-test');
  if (!existsSync(join(dist, 'harness.html')))
    throw new Error(`no ${dist}/harness.html: run \`DDPM_HARNESS=1 vite build --outDir ${dist}\` first (npm run bench:browser does)`);
  if (!existsSync(CHROMIUM_PATH))
    throw new Error(`the browser bench needs Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH)`);
  const wanted = (process.env.BENCH_BACKENDS ?? 'webgpu,webgl,wasm,cpu').split(',').map((s) => s.trim()) as BackendName[];
  for (const name of wanted)
    if (!(name in PLANS)) throw new Error(`bench/browser-runner.ts: unknown backend '${name}' (webgpu, webgl, wasm, cpu)`);

  const server = await serveStatic(dist);
  const browser = await launchChromium();
  const results: BackendResult[] = [];
  let hardwareConcurrency = 0;
  try {
    for (const [i, name] of wanted.entries()) {
      const reserve = wanted.slice(i + 1).reduce((sum, later) => sum + RESERVE_MS[later], 0);
      const timeLimitMs = Math.max(0, DEADLINE_MS - (performance.now() - t0) - reserve);
      log(`== ${name} (time limit ${(timeLimitMs / 1000).toFixed(0)} s)`);
      const page = await browser.newPage();
      page.on('console', (m) => {
        if (m.text().startsWith('bench: ')) log(m.text().slice(7));
        else if (m.type() === 'error') log(`[page error] ${m.text()}`);
      });
      page.on('pageerror', (e) => log(`[page error] ${e.message}`));
      try {
        results.push(await benchInPage(page, server.url, name, timeLimitMs));
        hardwareConcurrency = await page.evaluate(() => navigator.hardwareConcurrency);
      } catch (e) {
        log(`[${name}] failed: ${e instanceof Error ? e.message : String(e)}`);
        throw e;
      } finally {
        await page.close();
      }
      log(`elapsed ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    }
    const report: BenchReport = {
      machine: {
        cores: cpus().length,
        node: process.version,
        date: new Date().toISOString(),
        cpu: cpus()[0]?.model ?? 'unknown',
        runtime: 'headless chromium (playwright-core)',
        browser: `chromium ${browser.version()}`,
        hardwareConcurrency,
        gpu: 'none: WebGPU and WebGL run on SwiftShader (software, on the CPU)',
      },
      model: modelInfo(),
      results,
    };
    log(`bench:browser: ${((performance.now() - t0) / 1000).toFixed(1)} s in all`);
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } finally {
    await browser.close();
    await server.close();
  }
}
