import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser, ConsoleMessage, Page } from 'playwright-core';
import { openHarness } from './chromium';

let browser: Browser;
let page: Page;

beforeAll(async () => {
  ({ browser, page } = await openHarness(inject('baseUrl')));
});
afterAll(async () => {
  await browser?.close();
});

/** The engine in headless Chromium through the test harness page: backends, the U-Net, training. */
describe('tfjs backends in headless Chromium', () => {
  it('WebGPU is available to tfjs and a small op matches the CPU backend', async () => {
    const r = await page.evaluate(async () => {
      const { tf } = window.harness;
      const adapter = await navigator.gpu.requestAdapter();
      const op = async () => {
        const a = tf.tensor2d([
          [1, 2, 3],
          [4, 5, 6],
        ]);
        const b = tf.tensor2d([
          [0.5, -1],
          [2, 0.25],
          [-3, 1],
        ]);
        const y = tf.tidy(() => tf.sigmoid(tf.matMul(a, b)).add(tf.sin(a.sum())));
        const v = Array.from(await y.data());
        tf.dispose([a, b, y]);
        return v;
      };
      const ok = await tf.setBackend('webgpu');
      await tf.ready();
      const gpu = await op();
      const gpuBackend = tf.getBackend();
      await tf.setBackend('cpu');
      const cpu = await op();
      return { ok, gpuBackend, gpu, cpu, architecture: adapter?.info.architecture };
    });
    expect(r.ok).toBe(true);
    expect(r.gpuBackend).toBe('webgpu');
    expect(r.architecture).toBe('swiftshader');
    // GPU transcendental functions (sin) are accurate to ~1e-5, not to float32 rounding
    for (let i = 0; i < r.cpu.length; i++) expect(Math.abs(r.gpu[i] - r.cpu[i])).toBeLessThan(1e-4);
  });

  it('selectBackend skips software GPUs for WASM, and honours an override', async () => {
    const auto = await page.evaluate(() => window.harness.selectBackend());
    expect(auto.webgpuFallbackOnly).toBe(true);
    expect(auto.webglSoftware).toBe(true);
    expect(auto.backend).toBe('wasm');
    expect(auto.skipped.webgpu).toMatch(/software/);
    const forced = await page.evaluate(() => window.harness.selectBackend('webgpu'));
    expect(forced.backend).toBe('webgpu');
    expect(forced.adapter).toMatch(/swiftshader/);
    const webgl = await page.evaluate(() => window.harness.selectBackend('webgl'));
    expect(webgl.backend).toBe('webgl');
    expect(webgl.adapter).toMatch(/swiftshader/i);
    expect(auto.notices).toEqual([]);
  });

  it('a forced backend is said out loud: one that cannot be had (no adapter), and the slow cpu', async () => {
    const cpu = await page.evaluate(() => window.harness.selectBackend('cpu'));
    expect(cpu.backend).toBe('cpu');
    expect(cpu.notices).toEqual([expect.stringMatching(/^cpu is plain JavaScript, many times slower than wasm/) as string]);
    const noAdapter = await page.evaluate(async () => {
      const gpu = navigator.gpu;
      const requestAdapter = gpu.requestAdapter.bind(gpu);
      gpu.requestAdapter = () => Promise.resolve(null);
      try {
        return await window.harness.selectBackend('webgpu');
      } finally {
        gpu.requestAdapter = requestAdapter;
      }
    });
    expect(noAdapter.backend).toBe('wasm');
    expect(noAdapter.notices).toEqual(['you asked for webgpu, but this browser exposes no WebGPU adapter: the page runs on wasm instead']);
    await page.evaluate(() => window.harness.selectBackend('wasm'));
  });
});

describe('the U-Net on every browser backend', () => {
  it('gives the CPU backend’s output on webgpu, webgl and wasm (1e-4 relative)', async () => {
    const r = await page.evaluate(async () => {
      const { tf, UNet, DEFAULT_UNET_CONFIG } = window.harness;
      const config = {
        ...DEFAULT_UNET_CONFIG,
        imageSize: 16,
        baseChannels: 8,
        channelMults: [1, 2],
        groups: 4,
        numClasses: 3,
        attention: true,
      };
      const run = async (backend: string) => {
        await tf.setBackend(backend);
        await tf.ready();
        const model = UNet.create(config, 7);
        model.weights.get('conv_out.weight')!.assign(tf.randomNormal([3, 3, 8, 1], 0, 0.2, 'float32', 1));
        const x = tf.randomNormal([2, 16, 16, 1], 0, 1, 'float32', 2);
        const y = model.predict(x, tf.tensor1d([5, 800]), { labels: tf.tensor1d([1, 3], 'int32') });
        const v = Array.from(await y.data());
        tf.dispose([x, y]);
        model.dispose();
        return v;
      };
      const cpu = await run('cpu');
      const out: Record<string, number> = {};
      for (const b of ['webgpu', 'webgl', 'wasm']) {
        const v = await run(b);
        const scale = Math.max(...cpu.map(Math.abs));
        out[b] = Math.max(...v.map((x, i) => Math.abs(x - cpu[i]))) / scale;
      }
      return out;
    });
    for (const b of ['webgpu', 'webgl', 'wasm']) expect(r[b], b).toBeLessThan(1e-4);
  });

  it('a few dozen Adam steps on WebGPU clearly reduce the DDPM loss, with no WebGPU validation errors', async () => {
    const warnings: string[] = [];
    const listen = (m: ConsoleMessage) => void (m.type() === 'warning' || m.type() === 'error' ? warnings.push(m.text()) : 0);
    page.on('console', listen);
    const r = await page.evaluate(async () => {
      const { tf, UNet, DEFAULT_UNET_CONFIG, Trainer, ddpmLoss, diffusion } = window.harness;
      await tf.setBackend('webgpu');
      await tf.ready();
      const dcfg = { numTrainTimesteps: 1000, betaSchedule: 'linear' as const, predictionType: 'epsilon' as const };
      const model = UNet.create(
        { ...DEFAULT_UNET_CONFIG, imageSize: 16, baseChannels: 4, channelMults: [1, 2], groups: 2, numClasses: 0 },
        0,
      );
      const trainer = new Trainer(
        model,
        dcfg,
        { learningRate: 3e-3, warmupSteps: 5, gradClipNorm: 1, emaDecay: 0, labelDropout: 0 },
        new diffusion.GaussianRng(1),
      );
      // a square, a bar, a ring, a cross
      const imgs = [0, 1, 2, 3].map((k) =>
        Array.from({ length: 256 }, (_, i) => {
          const [y, x] = [Math.floor(i / 16) - 7.5, (i % 16) - 7.5];
          const on = [
            Math.max(Math.abs(x), Math.abs(y)) < 5,
            Math.abs(x) < 2,
            Math.abs(Math.hypot(x, y) - 5) < 1.5,
            Math.min(Math.abs(x), Math.abs(y)) < 1.5,
          ][k];
          return on ? 1 : -1;
        }),
      );
      const x0 = tf.tensor4d(imgs.flat(), [4, 16, 16, 1]);
      const forward = new diffusion.DDPMScheduler(dcfg);
      const evalX0 = tf.concat([x0, x0, x0, x0]);
      const evalT = tf.tensor1d(
        Array.from({ length: 16 }, (_, i) => 30 + i * 60),
        'int32',
      );
      const evalNoise = new diffusion.GaussianRng(99).randn(evalX0.shape);
      const evalLoss = async () => (await tf.mean(ddpmLoss(model, forward, evalX0, evalT, evalNoise, undefined, false)).data())[0];
      const start = await evalLoss();
      await trainer.trainStep(x0);
      const tensorsAfterFirst = tf.memory().numTensors;
      for (let i = 1; i < 40; i++) await trainer.trainStep(x0);
      const leaked = tf.memory().numTensors - tensorsAfterFirst;
      const end = await evalLoss();
      return { start, end, backend: tf.getBackend(), leaked };
    });
    expect(r.backend).toBe('webgpu');
    expect(r.start).toBeGreaterThan(0.9);
    expect(r.end).toBeLessThan(0.5 * r.start);
    expect(r.leaked).toBe(0);
    page.off('console', listen);
    expect(warnings).toEqual([]); // e.g. an op needing more storage buffers than the adapter allows
  });

  it('a WebGPU device lost mid-training ends the run with an explanation, not a freeze', async () => {
    const r = await page.evaluate(async () => {
      const h = window.harness;
      await h.selectBackend('webgpu');
      const ds = new h.ImageDataset({ size: 16, channels: 1, fit: 'crop' });
      for (let i = 0; i < 4; i++) ds.add({ name: String(i), label: null, pixels: new Uint8Array(256).fill(i * 60) });
      const config = { ...h.presetConfig('tiny', 16, 1, 0), baseChannels: 8 };
      const diffusion = { numTrainTimesteps: 1000, betaSchedule: 'linear' as const, predictionType: 'epsilon' as const };
      const device = (h.tf.backend() as unknown as { device: GPUDevice }).device;
      const steps: number[] = [];
      const session = h.TrainingSession.create(
        config,
        diffusion,
        { learningRate: 1e-3, warmupSteps: 1, gradClipNorm: 1, emaDecay: 0.9, labelDropout: 0 },
        ds,
        { batchSize: 2, totalSteps: 6, flip: false, previewEvery: 0, checkpointEvery: 100 },
        {
          onStep: (res) => {
            steps.push(res.step);
            if (res.step === 2) device.destroy(); // what a driver reset or a GPU process crash does
          },
        },
      );
      const reason = await Promise.race([session.run(), new Promise((resolve) => setTimeout(() => resolve({ kind: 'froze' }), 120_000))]);
      return { reason, steps };
    });
    expect(r.steps).toEqual([1, 2]);
    expect(r.reason).toEqual({
      kind: 'error',
      message: expect.stringMatching(
        /^the GPU device was lost \(.*\)\. Your last checkpoint is safe: reload the page to resume, or pick another backend/,
      ) as string,
    });
    await page.reload(); // a fresh page (and device) for whatever runs next
    await page.waitForFunction(() => document.title === 'harness ready');
  });
});

/**
 * The project's own kernels (src/model/kernels) in a real browser: WGSL on Chromium's WebGPU
 * (SwiftShader here), the composites on WebGL, loops over the heap on wasm — GroupNorm against the
 * composite it replaces, values and all gradients, and the timestep embedding against its closed
 * form (tests/shared/; the Node tests run the same checks on cpu, wasm and Dawn's WebGPU).
 */
describe('the GroupNorm kernel in Chromium', () => {
  it.each([
    ['webgpu', 1e-4, 1],
    ['webgl', 1e-4, null],
    ['wasm', 2e-5, 1],
  ] as const)(
    '%s: values and gradients equal the composite’s; one kernel where fused; no leak, no validation error',
    async (backend, tolerance, forwardKernels) => {
      const results = await page.evaluate(async (b) => {
        const { tf, selectBackend, checkGroupNormCases } = window.harness;
        await selectBackend(b);
        return { backend: tf.getBackend(), checks: await checkGroupNormCases() };
      }, backend);
      expect(results.backend).toBe(backend);
      expect(results.checks.length).toBeGreaterThanOrEqual(5);
      for (const r of results.checks) {
        for (const [what, err] of Object.entries(r.errors)) expect(err, `${r.name}: ${what}`).toBeLessThan(tolerance);
        if (forwardKernels !== null) expect(r.forwardKernels, r.name).toBe(forwardKernels);
        expect(r.leakedTensors, r.name).toBe(0);
        expect(r.validationError, r.name).toBeNull();
      }
    },
  );
});

describe('the timestep embedding in Chromium', () => {
  it.each([
    ['webgpu', 2e-7, 1],
    ['wasm', 2e-7, 1],
    ['webgl', 1e-3, null], // the composite: WebGL's own sin/cos
  ] as const)('%s: sin/cos of t·f_i for every t < 1000 to %s; one kernel where fused; no leak', async (backend, tolerance, kernels) => {
    const r = await page.evaluate(async (b) => {
      const { selectBackend, checkTimestepEmbedding } = window.harness;
      await selectBackend(b);
      return checkTimestepEmbedding();
    }, backend);
    expect(r.backend).toBe(backend);
    expect(r.maxError).toBeLessThan(tolerance);
    if (kernels !== null) expect(r.kernels).toBe(kernels);
    expect(r.leakedTensors).toBe(0);
  });
});
