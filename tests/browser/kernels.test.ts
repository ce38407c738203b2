import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { openHarness } from './chromium';

let browser: Browser;
let page: Page;

beforeAll(async () => {
  ({ browser, page } = await openHarness(inject('baseUrl')));
});
afterAll(async () => {
  await browser?.close();
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
  ] as const)('%s: values and gradients equal the composite’s; one kernel where fused; no leak, no validation error', async (backend, tolerance, forwardKernels) => {
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
  });
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
