import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { clearLongTasks, collectConsoleProblems, launchChromium, longTasks, setRange, trackLongTasks, FINISHED } from './chromium';

/**
 * The playground page in headless Chromium with the shipped model, on the backend it picks by
 * itself (here: WASM, since WebGPU and WebGL are software). The page forced onto WebGPU is
 * tests/browser/warmup.test.ts.
 */
const ARTIFACTS = 'test-artifacts';
let browser: Browser;
let page: Page;
let problems: string[];
const requests: string[] = [];

async function pixels(testId: string): Promise<number[]> {
  return page.evaluate((id) => {
    const c = document.querySelector<HTMLCanvasElement>(`[data-testid="${id}"]`)!;
    return Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data);
  }, testId);
}

async function run(steps: number, seed: number): Promise<void> {
  await page.selectOption('[data-testid=sampler]', 'ddim');
  await page.fill('[data-testid=steps]', String(steps));
  await page.fill('[data-testid=seed]', String(seed));
  await setRange(page, 'guidance', 1);
  await page.click('[data-testid=sample]');
  await runFinished(page);
}

/** After a click on Sample: the button stays until the worker says it started, so wait for the last step (the click cleared the counter). */
async function runFinished(p: Page): Promise<void> {
  await expect.poll(() => p.textContent('[data-testid=counter]'), { timeout: 240_000 }).toMatch(FINISHED);
  await p.waitForSelector('[data-testid=sample]', { timeout: 240_000 });
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await launchChromium();
  // reduced motion: no run starts by itself, so each test starts its own (the first view is tested below)
  page = await browser.newPage({ viewport: { width: 1280, height: 800 }, acceptDownloads: true, reducedMotion: 'reduce' });
  problems = collectConsoleProblems(page);
  page.on('request', (r) => requests.push(r.url()));
  await trackLongTasks(page);
  await page.goto(`${inject('baseUrl')}/`);
  await page.waitForSelector('[data-testid=sample]', { timeout: 120_000 });
});
afterAll(async () => {
  await browser?.close();
});

describe('the playground page', () => {
  it('loads the shipped model and reports the backend it chose', async () => {
    const badge = await page.textContent('[data-testid=backend]');
    expect(badge).toMatch(/^wasm/);
    expect(badge).toMatch(/M-param U-Net/);
    expect(badge).not.toMatch(/untrained/);
    // no GPU kernel warm-up off WebGPU
    expect(await page.locator('[data-testid=warmup]').count()).toBe(0);
  });

  it('with reduced motion nothing starts by itself; before a run the counter shows the first timestep of the chosen sampler', async () => {
    expect(await page.locator('[data-testid=sample]').count()).toBe(1);
    expect(await page.textContent('[data-testid=next-hint]')).toMatch(/^Press Sample to watch pure noise become a digit/);
    expect(await page.textContent('[data-testid=counter]')).toBe('t = 1000');
    await page.selectOption('[data-testid=sampler]', 'ddim');
    // DDIM 50 of 1000, "leading" spacing: 980, 960, …, 0 (0-based), so the first step shown is t = 981
    expect(await page.textContent('[data-testid=counter]')).toBe('t = 981');
    await page.selectOption('[data-testid=sampler]', 'dpm-solver++');
    expect(await page.inputValue('[data-testid=steps]')).toBe('20');
    expect(await page.textContent('[data-testid=counter]')).toBe('t = 1000');
    await page.selectOption('[data-testid=sampler]', 'ddpm');
  });

  it('is cross-origin isolated, so WebAssembly runs one thread per core', async () => {
    expect(await page.evaluate(() => window.crossOriginIsolated)).toBe(true);
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    expect(cores).toBeGreaterThan(1); // CI and this machine have 2 cores; on 1 core the test proves nothing
    expect(await page.textContent('[data-testid=threads]')).toBe(` · ${cores} threads`);
    expect(await page.locator('[data-testid=threads-note]').count()).toBe(0);
  });

  // The page on WebGPU (?backend=webgpu: the adapter, the GPU kernel warm-up, runs) is tests/browser/warmup.test.ts.

  it('a short run updates x_t, x̂0, ε̂ and the trajectory strip, without blocking the main thread', async () => {
    // Long tasks are wall-clock: on a 2-core machine that is also running the engine worker, a
    // descheduled main thread can show one. So a second run gets a chance; both must not block.
    let long: number[] = [];
    for (let attempt = 0; attempt < 2; attempt++) {
      await clearLongTasks(page);
      await run(20, 7);
      long = (await longTasks(page)).filter((d) => d > 50);
      if (long.length === 0) break;
    }
    expect(long).toEqual([]);
    expect(await page.textContent('[data-testid=counter]')).toMatch(FINISHED);
    // the noise it started from (DDIM 20 begins at t = 951), then 11 steps down to the clean image
    expect(await page.locator('[data-testid=strip] li').count()).toBe(12);
    expect(await page.locator('[data-testid=strip] li span').first().textContent()).toBe('t=951');
    expect(await page.locator('[data-testid=strip] li span').last().textContent()).toBe('t=0');
    for (const id of ['xt', 'x0', 'eps']) {
      const px = await pixels(id);
      expect(px.length).toBe(28 * 28 * 4);
      expect(new Set(px).size).toBeGreaterThan(2);
    }
    await page.locator('section[aria-labelledby=reverse-title]').screenshot({ path: `${ARTIFACTS}/reverse-panel.png` });
  });

  it('exports the trajectory as an animated GIF and a PNG strip', async () => {
    const [gif] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=export-gif]')]);
    const gifBytes = await readFile(await gif.path());
    expect(gifBytes.subarray(0, 6).toString('ascii')).toBe('GIF89a');
    expect(gif.suggestedFilename()).toBe('ddpm-trajectory.gif');
    const [png] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=export-png]')]);
    const pngBytes = await readFile(await png.path());
    expect(Array.from(pngBytes.subarray(1, 4))).toEqual([0x50, 0x4e, 0x47]);
    // 12 thumbnails of 84 px plus 4 px gaps
    expect(pngBytes.readUInt32BE(16)).toBe(12 * (84 + 4) + 4);
  });

  it('the same seed gives identical pixels; another seed different ones', async () => {
    await run(2, 11);
    const a = await pixels('xt');
    await run(2, 11);
    const b = await pixels('xt');
    await run(2, 12);
    const c = await pixels('xt');
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('the meter: x̂0 reads as the digit asked for, with the probabilities the classifier gives in Node for the same run', async () => {
    await run(10, 5); // DDIM 10 steps, seed 5, guidance 1, the digit 3 (the page's default)
    const page10 = JSON.parse((await page.getAttribute('[data-testid=meter]', 'data-probs'))!) as number[];
    expect(await page.textContent('[data-testid=meter-text]')).toMatch(/^reads as 3 \(\d+ %\)/);
    // the curve has its axes named, and 100 % lies inside the box, not on its border (issue 26, item 11)
    expect(await page.locator('.meter-plot .axis-y span').allTextContents()).toEqual(['100 %', 'p(3)', '0 %']);
    expect(await page.locator('.meter-plot .axis-x span').allTextContents()).toEqual(['first step', 'last step']);
    const top = await page
      .locator('.meter-curve .curve')
      .evaluate((p) => Math.min(...[...p.getAttribute('d')!.matchAll(/,([\d.]+)/g)].map((m) => Number(m[1]))));
    expect(top).toBeGreaterThanOrEqual(6);
    // the same run in Node (tfjs cpu): the page's pipeline, then the classifier on the last x̂0
    const tf = await import('@tensorflow/tfjs');
    await tf.setBackend('cpu');
    const { loadModel } = await import('../../src/model/io');
    const { fileHandler } = await import('../../scripts/node-io');
    const { sample } = await import('../../src/pipeline/sample');
    const { model, diffusion } = await loadModel(fileHandler('public/models/mnist'));
    const classifier = await tf.loadLayersModel(fileHandler('public/models/digit-classifier'));
    let probs: number[] = [];
    for (const s of sample(model, diffusion, { sampler: 'ddim', steps: 10, eta: 0, batch: 1, labels: [3], guidance: 1, seed: 5 })) {
      if (s.index === s.total - 1)
        probs = Array.from(await (classifier.predict(s.predOriginalSample) as import('@tensorflow/tfjs').Tensor).data());
    }
    expect(page10).toHaveLength(10);
    for (let d = 0; d < 10; d++) expect(Math.abs(page10[d] - probs[d])).toBeLessThan(2e-3);
    expect(probs.indexOf(Math.max(...probs))).toBe(3);
    model.dispose();
  });

  it('is it a copy? a sample’s nearest training digits are those Node finds, and a training digit offered as a picture is found at distance 0', async () => {
    const { gunzipSync } = await import('node:zlib');
    const { nearestRows } = await import('../../src/memorisation/nearest');
    const { encodePng } = await import('../../scripts/png');
    const train = gunzipSync(await readFile('public/data/train-digits.bin.gz'));
    const digits = { values: train, count: train.length / 784, dim: 784 };
    const neighbours = (kind: 'pixels' | 'features') =>
      page.$$eval(`[data-testid=memo-${kind}] [data-testid=memo-neighbour]`, (els) =>
        els.map((e) => [Number((e as HTMLElement).dataset.index), Number((e as HTMLElement).dataset.distance)]),
      );
    await run(10, 5);
    await clearLongTasks(page);
    await page.click('[data-testid=memo-check]');
    await page.waitForSelector('[data-testid=memo-result]', { timeout: 120_000 });
    // 9,000 digits fetched, read by the classifier and searched in the worker: the page never blocks
    expect((await longTasks(page)).filter((d) => d > 50)).toEqual([]);
    // the sample as the page shows it (x_t at its native 28×28), searched in Node over the same 9,000 digits
    const shown = (await pixels('xt')).filter((_, i) => i % 4 === 0);
    const expected = nearestRows(shown, digits, 3).map((n) => [n.index, n.distance / 255]);
    const got = await neighbours('pixels');
    expect(got.map(([i]) => i)).toEqual(expected.map(([i]) => i));
    for (let k = 0; k < 3; k++) expect(got[k][1]).toBeCloseTo(expected[k][1], 9);
    expect(got[0][1]).toBeGreaterThan(0);
    expect(await neighbours('features')).toHaveLength(3);
    expect(await page.textContent('[data-testid=memo-yardstick]')).toMatch(
      /^Compared with the 9,000 MNIST digits the shipped model was trained on\. Training images lie a median pixel distance of [\d.]+ from their nearest neighbour/,
    );
    // a fresh sample of seed 5 lies as far from its nearest training digit as most training digits from theirs
    expect(await page.textContent('[data-testid=memo-verdict]')).toMatch(
      new RegExp(
        `^Not a copy: [\\d.]+ % of training images lie closer to their own nearest neighbour than this lies to training image #${expected[0][0] + 1}\\.$`,
      ),
    );
    await page.locator('[data-testid=memorisation]').screenshot({ path: `${ARTIFACTS}/memorisation.png` });
    // a training digit, offered as a PNG of its own: identical to itself, by pixels and by features
    const k = 4321;
    await page.setInputFiles('[data-testid=memo-file]', {
      name: 'digit.png',
      mimeType: 'image/png',
      buffer: encodePng(train.subarray(k * 784, (k + 1) * 784), 28, 28, 1),
    });
    await expect.poll(() => neighbours('pixels'), { timeout: 60_000 }).toContainEqual([k, 0]);
    expect((await neighbours('pixels'))[0]).toEqual([k, 0]);
    expect((await neighbours('features'))[0]).toEqual([k, 0]);
    expect(await page.textContent('[data-testid=memo-verdict]')).toBe(`A copy: identical to training image #${k + 1}.`);
    expect(await page.getAttribute('[data-testid=memo-row]', 'data-verdict')).toBe('copy');
  });

  it('a double click on Sample shows one run: the first run’s frames never reach the strip', async () => {
    await page.selectOption('[data-testid=sampler]', 'ddim');
    await page.fill('[data-testid=steps]', '20');
    await page.fill('[data-testid=seed]', '3');
    // two clicks in one task: the worker gets two runs, the second replaces the first
    await page.locator('[data-testid=sample]').evaluate((b) => {
      (b as HTMLButtonElement).click();
      (b as HTMLButtonElement).click();
    });
    await runFinished(page);
    const labels = await page.locator('[data-testid=strip] li span').allTextContents();
    expect(labels.length).toBe(12);
    expect(new Set(labels).size).toBe(12);
  });

  it('pause, single step and resume', async () => {
    await page.selectOption('[data-testid=sampler]', 'ddim');
    await page.fill('[data-testid=steps]', '8');
    await page.selectOption('[data-testid=speed]', { label: '2 steps/s' });
    await page.click('[data-testid=sample]');
    await page.waitForFunction(() => /step [1-9]/.test(document.body.innerText), null, { timeout: 120_000 });
    await page.click('[data-testid=pause]');
    await page.waitForSelector('[data-testid=resume]');
    const paused = await page.textContent('[data-testid=counter]');
    await page.click('[data-testid=step]');
    await page.waitForFunction((p) => document.querySelector('[data-testid=counter]')!.textContent !== p, paused, { timeout: 60_000 });
    const stepped = await page.textContent('[data-testid=counter]');
    // DDIM 8 of 1000: one step moves t by 125, and the run is still paused
    const t = (counter: string | null) => Number(/^t = (\d+)/.exec(counter!)![1]);
    expect(t(paused) - t(stepped)).toBe(125);
    expect(await page.locator('[data-testid=resume]').count()).toBe(1);
    await page.selectOption('[data-testid=speed]', { label: 'Max' });
    await page.click('[data-testid=resume]');
    await page.waitForSelector('[data-testid=sample]', { timeout: 240_000 });
    expect(await page.textContent('[data-testid=counter]')).toMatch(FINISHED);
  });

  it('the forward slider computes x_t on the page: eq. (4) pixel for pixel, no message to the worker', async () => {
    const r = await page.evaluate(async () => {
      // count what the page sends the engine worker while the slider moves
      const sent: unknown[] = [];
      // eslint-disable-next-line @typescript-eslint/unbound-method -- called with its `this` through apply below
      const post = Worker.prototype.postMessage;
      Worker.prototype.postMessage = function (this: Worker, ...args: Parameters<Worker['postMessage']>) {
        sent.push(args[0]);
        return post.apply(this, args);
      } as Worker['postMessage'];
      const slider = document.querySelector<HTMLInputElement>('[data-testid=forward-slider]')!;
      // eslint-disable-next-line @typescript-eslint/unbound-method -- called with its `this` through call below
      const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!;
      const grey = (id: string) =>
        Array.from(
          document.querySelector<HTMLCanvasElement>(`[data-testid=${id}]`)!.getContext('2d')!.getImageData(0, 0, 28, 28).data,
        ).filter((_, i) => i % 4 === 0);
      const x0Canvas = document.querySelector<HTMLCanvasElement>('canvas[aria-label="clean image x0"]')!;
      const x0 = Array.from(x0Canvas.getContext('2d')!.getImageData(0, 0, 28, 28).data).filter((_, i) => i % 4 === 0);
      const value = (row: string) => Number(document.querySelector(`table.values tr[data-row=${row}] td`)!.textContent);
      const worst: number[] = [];
      for (const v of [1, 150, 400, 700, 999]) {
        setter.call(slider, String(v));
        slider.dispatchEvent(new Event('input', { bubbles: true }));
        // React renders the new x_t before the next task
        await new Promise((resolve) => setTimeout(resolve, 0));
        await new Promise((resolve) => requestAnimationFrame(resolve));
        const [a, b] = [value('signal'), value('noise')];
        const xt = grey('forward-xt').map((p) => (p / 255) * 2 - 1);
        const eps = grey('forward-eps').map((p) => ((p / 255) * 2 - 1) * 3);
        let w = 0;
        xt.forEach((x, i) => {
          const expected = a * ((x0[i] / 255) * 2 - 1) + b * eps[i];
          // pixels the canvases clip (|ε| ≥ 3 on the noise view, |x_t| ≥ 1) carry no exact value
          if (Math.abs(eps[i]) < 2.95 && Math.abs(expected) < 0.97) w = Math.max(w, Math.abs(x - expected));
        });
        worst.push(w);
      }
      Worker.prototype.postMessage = post;
      return { sent: sent.length, worst };
    });
    expect(r.sent).toBe(0);
    // 8-bit canvases: x0 to ±0.004, ε (shown over ±3) to ±0.012, x_t to ±0.004, √ᾱ and √(1−ᾱ) to 4 digits
    for (const w of r.worst) expect(w).toBeLessThan(0.03);
  });

  it('the forward slider: t = 0 is the clean image, t = 1000 (near) pure noise', async () => {
    const x0Canvas = page.getByRole('img', { name: 'clean image x0' });
    const x0 = await x0Canvas.evaluate((c) => Array.from((c as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, 28, 28).data));
    await setRange(page, 'forward-slider', 0);
    await page.waitForFunction(() => document.querySelector('[data-testid=forward-t]')!.textContent === '0');
    await expect.poll(() => pixels('forward-xt')).toEqual(x0);
    await setRange(page, 'forward-slider', 300);
    await expect.poll(() => pixels('forward-xt')).not.toEqual(x0);
    await setRange(page, 'forward-slider', 1000);
    await page.waitForFunction(() => document.querySelector('[data-testid=forward-t]')!.textContent === '1000');
    // at t = T, x_t = √ᾱ x0 + √(1−ᾱ) ε with √ᾱ ≈ 0.006: the picture is the noise (shown on ±1 vs ±3 scales);
    // ε is drawn on ±3 and x_t on ±1 (clipped), so compare x_t with ε clipped the same way
    const corr = async () => {
      const xt = (await pixels('forward-xt')).filter((_, i) => i % 4 === 0).map((v) => (v / 255) * 2 - 1);
      const eps = (await pixels('forward-eps'))
        .filter((_, i) => i % 4 === 0)
        .map((v) => Math.max(-1, Math.min(1, ((v / 255) * 2 - 1) * 3)));
      return correlation(xt, eps);
    };
    await expect.poll(corr).toBeGreaterThan(0.95);
    await page.locator('section[aria-labelledby=forward-title]').screenshot({ path: `${ARTIFACTS}/forward-panel.png` });
  });

  it('"denoise from here" runs the reverse process from the slider’s x_t', async () => {
    await page.selectOption('[data-testid=sampler]', 'ddim');
    await page.fill('[data-testid=steps]', '20');
    await setRange(page, 'forward-slider', 100);
    await page.click('[data-testid=denoise-from-here]');
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid=strip] li').length === 3 && !!document.querySelector('[data-testid=sample]'),
      null,
      { timeout: 60_000 },
    );
    // DDIM 20 of 1000 visits 950, 900, …, 0; from t = 100 (0-based 99) only 50 and 0 remain: the strip
    // shows the slider's x_t, then the image each step left — at 0-based 0 (t=1), then the clean image (t=0)
    const labels = await page.locator('[data-testid=strip] li span').allTextContents();
    expect(labels).toEqual(['t=100', 't=1', 't=0']);
    expect(await page.textContent('[data-testid=counter]')).toMatch(FINISHED);
  });

  it('an upload that is not an image, or empty, gets a clear message and keeps the current image', async () => {
    const x0Before = await page.getByRole('img', { name: 'clean image x0' }).evaluate((c) => (c as HTMLCanvasElement).toDataURL());
    await page.setInputFiles('[data-testid=upload]', {
      name: 'notes.png',
      mimeType: 'image/png',
      buffer: Buffer.from('this is not a PNG'),
    });
    await expect.poll(() => page.textContent('[role=alert]')).toMatch(/notes\.png: not an image: its contents are not PNG/);
    await page.setInputFiles('[data-testid=upload]', { name: 'empty.png', mimeType: 'image/png', buffer: Buffer.alloc(0) });
    await expect.poll(() => page.textContent('[role=alert]')).toMatch(/empty\.png: the file is empty/);
    expect(await page.getByRole('img', { name: 'clean image x0' }).evaluate((c) => (c as HTMLCanvasElement).toDataURL())).toBe(x0Before);
  });

  it('an uploaded picture is center-cropped, resized to 28×28 and used as x0', async () => {
    // a 60×40 PNG: white left half, black right half; the centre crop keeps the middle 40×40
    const png = await page.evaluate(async () => {
      const c = new OffscreenCanvas(60, 40);
      const ctx = c.getContext('2d')!;
      ctx.fillStyle = '#000';
      ctx.fillRect(0, 0, 60, 40);
      ctx.fillStyle = '#fff';
      ctx.fillRect(0, 0, 30, 40);
      return Array.from(new Uint8Array(await (await c.convertToBlob({ type: 'image/png' })).arrayBuffer()));
    });
    await page.setInputFiles('[data-testid=upload]', { name: 'half.png', mimeType: 'image/png', buffer: Buffer.from(png) });
    await setRange(page, 'forward-slider', 0);
    const x0 = page.getByRole('img', { name: 'clean image x0' });
    await expect.poll(() => x0.evaluate((c) => (c as HTMLCanvasElement).width)).toBe(28);
    const row = await x0.evaluate((c) =>
      Array.from((c as HTMLCanvasElement).getContext('2d')!.getImageData(0, 14, 28, 1).data).filter((_, i) => i % 4 === 0),
    );
    expect(row[2]).toBeGreaterThan(240);
    expect(row[25]).toBeLessThan(15);
  });

  it('every control has an accessible name and is reachable by keyboard', async () => {
    const unnamed = await page.evaluate(() =>
      [...document.querySelectorAll<HTMLElement>('button, input, select')]
        .filter((el) => !((el as HTMLInputElement).labels?.length || el.getAttribute('aria-label') || el.textContent?.trim()))
        .map((el) => el.outerHTML.slice(0, 80)),
    );
    expect(unnamed).toEqual([]);
    const negativeTabIndex = await page.evaluate(
      () => [...document.querySelectorAll<HTMLElement>('button, input, select')].filter((el) => el.tabIndex < 0).length,
    );
    expect(negativeTabIndex).toBe(0);
  });

  it('fits a phone-width screen without horizontal scrolling', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await expect.poll(() => page.evaluate(() => window.innerWidth)).toBe(390);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: `${ARTIFACTS}/page-phone.png`, fullPage: true });
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('no console errors or warnings, and no request leaves the page’s origin', async () => {
    expect(problems).toEqual([]);
    const origin = new URL(inject('baseUrl')).origin;
    expect(requests.filter((u) => !u.startsWith(origin) && !u.startsWith('blob:') && !u.startsWith('data:'))).toEqual([]);
    await page.screenshot({ path: `${ARTIFACTS}/page.png`, fullPage: true });
  });
});

function correlation(a: number[], b: number[]): number {
  const n = a.length;
  const ma = a.reduce((s, v) => s + v, 0) / n;
  const mb = b.reduce((s, v) => s + v, 0) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}
