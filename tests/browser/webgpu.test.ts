import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './chromium';

let browser: Browser;
let page: Page;

beforeAll(async () => {
  browser = await launchChromium();
  page = await browser.newPage();
  await page.goto(`${inject('baseUrl')}/harness.html`);
  await page.waitForFunction(() => document.title === 'harness ready');
});
afterAll(async () => {
  await browser?.close();
});

describe('tfjs backends in headless Chromium', () => {
  it('WebGPU is available to tfjs and a small op matches the CPU backend', async () => {
    const r = await page.evaluate(async () => {
      const { tf } = window.harness;
      const adapter = await navigator.gpu.requestAdapter();
      const op = async () => {
        const a = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
        const b = tf.tensor2d([[0.5, -1], [2, 0.25], [-3, 1]]);
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
  });
});
