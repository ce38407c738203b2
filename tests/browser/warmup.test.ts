import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser, Page, Worker } from 'playwright-core';
import { collectConsoleProblems, launchChromium, setRange, FINISHED } from './chromium';

/**
 * Shader compilation off the critical path: on WebGPU the engine compiles every pipeline a sampling
 * run can need before the first run (src/worker/warmup.ts), and the page says so with progress.
 * WebGPU here is SwiftShader — slow — so the models are tiny where the test chooses the model.
 */
let browser: Browser;
let harness: Page;

/** A small conditional U-Net (guidance doubles its batch), 16×16 grey. */
const TINY = { imageSize: 16, baseChannels: 8, channelMults: [1, 2], groups: 4, numClasses: 3 };

beforeAll(async () => {
  browser = await launchChromium();
  harness = await openHarnessPage();
});
afterAll(async () => {
  await browser?.close();
});

async function openHarnessPage(): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${inject('baseUrl')}/harness.html`);
  await page.waitForFunction(() => document.title === 'harness ready');
  return page;
}

/** The warm-up itself, through the harness: what it compiles, what it leaves behind. */
describe('the GPU kernel warm-up (src/worker/warmup.ts)', () => {
  it('compiles every sampling shape up front; afterwards runs compile nothing, and it leaks no tensor nor touches a weight', async () => {
    const r = await harness.evaluate(async (tiny) => {
      const { tf, UNet, DEFAULT_UNET_CONFIG, sample, warmUpSampling, samplingShapes, pipelineCache, selectBackend } = window.harness;
      await selectBackend('webgpu');
      const diffusion = { numTrainTimesteps: 1000, betaSchedule: 'linear', predictionType: 'epsilon' } as const;
      const model = UNet.create({ ...DEFAULT_UNET_CONFIG, ...tiny }, 3);
      const cache = pipelineCache()!;
      const cached = () => Object.keys(cache).length;
      const weights = async () => (await Promise.all([...model.weights.values()].map((v) => v.data()))).map((d) => Array.from(d));
      const weightsBefore = await weights();
      const tensorsBefore = tf.memory().numTensors;
      const progress: [number, number | null][] = [];
      const first = await warmUpSampling(model, diffusion, samplingShapes(model, [1, 2]), (done, total) => progress.push([done, total]));
      const tensorsAfter = tf.memory().numTensors;
      const stillCompiling = Object.values(cache).filter((p) => p instanceof Promise).length;
      const compileOnly = tf.env().getBool('WEBGPU_ENGINE_COMPILE_ONLY');
      const warm = cached();
      // every shape the warm-up covered: both samplers, plain and guided (2·batch), three steps each
      const runs = [
        { sampler: 'ddpm', batch: 1, guidance: 1 },
        { sampler: 'ddpm', batch: 2, guidance: 3 },
        { sampler: 'ddim', batch: 1, guidance: 3, eta: 0.5 },
        { sampler: 'ddim', batch: 2, guidance: 1, eta: 0 },
      ] as const;
      const newPipelines: number[] = [];
      let finite = true;
      for (const run of runs) {
        const before = cached();
        for (const s of sample(model, diffusion, { ...run, steps: 50, labels: new Array(run.batch).fill(1), seed: 4 })) {
          finite &&= (await s.sample.data()).every(Number.isFinite);
          if (s.index === 2) break;
        }
        newPipelines.push(cached() - before);
      }
      const again = await warmUpSampling(model, diffusion, samplingShapes(model, [1, 2]));
      const weightsAfter = await weights();
      const unchanged = weightsAfter.every((w, i) => w.every((v, j) => v === weightsBefore[i][j]));
      model.dispose();
      // off WebGPU it does nothing
      await tf.setBackend('wasm');
      const wasmModel = UNet.create({ ...DEFAULT_UNET_CONFIG, ...tiny }, 3);
      const onWasm = await warmUpSampling(wasmModel, diffusion, samplingShapes(wasmModel, [1]));
      wasmModel.dispose();
      await tf.setBackend('webgpu');
      return {
        first,
        progress,
        tensorsBefore,
        tensorsAfter,
        stillCompiling,
        compileOnly,
        warm,
        newPipelines,
        finite,
        again,
        unchanged,
        onWasm,
      };
    }, TINY);
    expect(r.first!.pipelines).toBeGreaterThan(0);
    expect(r.tensorsAfter).toBe(r.tensorsBefore);
    expect(r.stillCompiling).toBe(0);
    expect(r.compileOnly).toBe(false);
    expect(r.unchanged).toBe(true);
    // progress: listing (total null), then done counts up to the total
    expect(r.progress[0]).toEqual([0, null]);
    expect(r.progress.at(-1)).toEqual([r.first!.pipelines, r.first!.pipelines]);
    const dones = r.progress.slice(1).map(([d]) => d);
    expect(dones).toEqual([...dones].sort((a, b) => a - b));
    expect(r.newPipelines).toEqual([0, 0, 0, 0]);
    expect(r.finite).toBe(true);
    expect(r.again!.pipelines).toBe(0);
    expect(r.onWasm).toBeNull();
  });

  it('without it, the first sampling step compiles pipelines (what the warm-up takes off that step)', async () => {
    // a fresh page: a fresh WebGPU backend with nothing compiled
    const page = await openHarnessPage();
    const r = await page.evaluate(async (tiny) => {
      const { UNet, DEFAULT_UNET_CONFIG, sample, pipelineCache, selectBackend } = window.harness;
      await selectBackend('webgpu');
      const model = UNet.create({ ...DEFAULT_UNET_CONFIG, ...tiny }, 3);
      const cached = () => Object.keys(pipelineCache()!).length;
      const before = cached();
      const started = performance.now();
      for (const s of sample(
        model,
        { numTrainTimesteps: 1000, betaSchedule: 'linear', predictionType: 'epsilon' },
        { sampler: 'ddim', steps: 50, batch: 1, labels: [1], guidance: 1, seed: 4 },
      )) {
        await s.sample.data();
        break;
      }
      const ms = performance.now() - started;
      model.dispose();
      return { compiled: cached() - before, ms };
    }, TINY);
    await page.close();
    expect(r.compiled).toBeGreaterThan(10);
  });
});

/**
 * Counts the GPU pipelines the engine worker creates (sync and async), by wrapping GPUDevice's
 * methods in the worker as soon as it exists. Returns a reader.
 */
function countPipelines(page: Page): () => Promise<number> {
  let engine: Promise<Worker> | null = null;
  const ready = new Promise<Worker>((resolve) =>
    page.on('worker', (w) => {
      if (!w.url().includes('engine.worker')) return;
      engine = w
        .evaluate(() => {
          const scope = self as unknown as { pipelinesCreated: number };
          scope.pipelinesCreated = 0;
          for (const name of ['createComputePipeline', 'createComputePipelineAsync'] as const) {
            // eslint-disable-next-line @typescript-eslint/unbound-method -- called with its `this` through apply below
            const original = GPUDevice.prototype[name] as (...a: unknown[]) => unknown;
            (GPUDevice.prototype as unknown as Record<string, unknown>)[name] = function (this: GPUDevice, ...a: unknown[]) {
              scope.pipelinesCreated++;
              return original.apply(this, a);
            };
          }
        })
        .then(() => w);
      void engine.then(resolve);
    }),
  );
  return async () => (await (engine ?? ready)).evaluate(() => (self as unknown as { pipelinesCreated: number }).pipelinesCreated);
}

/** Records every text the warm-up status shows (it can come and go between two polls). */
async function recordWarmupTexts(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { warmupTexts: string[] };
    w.warmupTexts = [];
    new MutationObserver(() => {
      const text = document.querySelector('[data-testid=warmup]')?.textContent;
      if (text && text !== w.warmupTexts.at(-1)) w.warmupTexts.push(text);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
}
const warmupTexts = (page: Page): Promise<string[]> =>
  page.evaluate(() => (window as unknown as { warmupTexts: string[] }).warmupTexts.slice());

/** A DDIM run of `steps` steps with these settings; waits for its last step. */
async function runDdim(page: Page, settings: { steps: number; batch: number; guidance: number }): Promise<void> {
  await page.selectOption('[data-testid=sampler]', 'ddim');
  await page.fill('[data-testid=steps]', String(settings.steps));
  await page.selectOption('[data-testid=batch]', String(settings.batch));
  await setRange(page, 'guidance', settings.guidance);
  await page.click('[data-testid=sample]');
  await runFinished(page);
}

/** After a click on Sample: wait for the last step (the click cleared the counter) and the button's return. */
async function runFinished(page: Page): Promise<void> {
  await expect.poll(() => page.textContent('[data-testid=counter]'), { timeout: 240_000 }).toMatch(FINISHED);
  await page.waitForSelector('[data-testid=sample]', { timeout: 240_000 });
}

describe('the page on WebGPU (?backend=webgpu, SwiftShader)', () => {
  let page: Page;
  let problems: string[];
  let pipelines: () => Promise<number>;

  beforeAll(async () => {
    page = await browser.newPage({ viewport: { width: 1280, height: 800 }, reducedMotion: 'reduce' });
    problems = collectConsoleProblems(page);
    pipelines = countPipelines(page);
    await page.goto(`${inject('baseUrl')}/?backend=webgpu`);
  });

  it('reports the adapter, shows "Preparing GPU kernels… k/n" with a progress bar, and a run asked for meanwhile waits for it', async () => {
    await page.waitForSelector('[data-testid=sample]', { timeout: 120_000 });
    expect(await page.textContent('[data-testid=backend]')).toMatch(/^webgpu.*swiftshader/i);
    // forcing a software GPU is allowed, with a warning of what it costs
    expect(await page.textContent('[data-testid=backend-notices]')).toMatch(
      /webgpu here runs on a software renderer .*many times slower than wasm/,
    );
    await expect.poll(() => page.textContent('[data-testid=warmup]'), { timeout: 120_000 }).toMatch(/^Preparing GPU kernels… \d+\/\d+/);
    const bar = page.locator('[data-testid=warmup] progress');
    expect(Number(await bar.getAttribute('max'))).toBeGreaterThan(0);
    await page.screenshot({ path: 'test-artifacts/warmup.png' });
    // Sample now: the run is queued, not lost, and says why it has not started
    await page.selectOption('[data-testid=sampler]', 'ddim');
    await page.fill('[data-testid=steps]', '2');
    await page.click('[data-testid=sample]');
    await expect.poll(() => page.textContent('[data-testid=warmup]')).toMatch(/the run starts when they are ready/);
    await page.waitForSelector('[data-testid=warmup]', { state: 'detached', timeout: 240_000 });
    await runFinished(page);
    expect(await pipelines()).toBeGreaterThan(0);
  });

  it('after the warm-up a run compiles no pipeline: 4 images with guidance (a batch of 8 through the U-Net)', async () => {
    const before = await pipelines();
    await runDdim(page, { steps: 2, batch: 4, guidance: 3 });
    expect(await pipelines()).toBe(before);
  });

  it('a model of other shapes (imported, or "use this model") is warmed up again before it runs', async () => {
    const file = await harness.evaluate(async (tiny) => {
      const { tf, UNet, DEFAULT_UNET_CONFIG, modelToFile } = window.harness;
      await tf.setBackend('cpu');
      const model = UNet.create({ ...DEFAULT_UNET_CONFIG, ...tiny }, 9);
      const blob = await modelToFile(
        model,
        { numTrainTimesteps: 1000, betaSchedule: 'linear', predictionType: 'epsilon' },
        { classes: ['a', 'b', 'c'] },
      );
      model.dispose();
      return Array.from(new Uint8Array(await blob.arrayBuffer()));
    }, TINY);
    await recordWarmupTexts(page);
    await page.setInputFiles('[data-testid=import-model]', {
      name: 'tiny.ddpm',
      mimeType: 'application/octet-stream',
      buffer: Buffer.from(file),
    });
    await expect.poll(() => page.textContent('[data-testid=active-model]'), { timeout: 60_000 }).toMatch(/an imported model \(16×16 grey/);
    await expect.poll(() => warmupTexts(page), { timeout: 240_000 }).toContainEqual(expect.stringMatching(/^Preparing GPU kernels…/));
    await page.waitForSelector('[data-testid=warmup]', { state: 'detached', timeout: 240_000 });
    const before = await pipelines();
    await runDdim(page, { steps: 2, batch: 16, guidance: 3 });
    expect(await pipelines()).toBe(before);
    expect(await page.textContent('[data-testid=counter]')).toMatch(FINISHED);
  });

  it('logs no console errors or warnings (no WebGPU validation messages)', () => {
    expect(problems).toEqual([]);
  });
});
