import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { clearLongTasks, collectConsoleProblems, launchChromium, longTasks, trackLongTasks, FINISHED } from './chromium';

/**
 * The page as a person meets it (issue 14): the first view, the controls, the backend choice, at
 * 1280×800 and 390 px. Screenshots of each view land in test-artifacts/.
 */
const ARTIFACTS = 'test-artifacts';
let browser: Browser;
let page: Page;
let problems: string[];

const text = (testId: string) => page.textContent(`[data-testid=${testId}]`);
const shot = (name: string, selector?: string) =>
  selector
    ? page.locator(selector).screenshot({ path: `${ARTIFACTS}/${name}.png` })
    : page.screenshot({ path: `${ARTIFACTS}/${name}.png`, fullPage: true });

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await launchChromium();
  // no reduced motion here: the page starts a run by itself
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  problems = collectConsoleProblems(page);
  await trackLongTasks(page);
  await page.goto(`${inject('baseUrl')}/?backend=bogus`);
});
afterAll(async () => {
  await browser?.close();
});

describe('the page as a person meets it', () => {
  it('the first view: a sample starts denoising by itself, with a hint of what is happening', async () => {
    // no click: the run is under way (the primary button is Pause) and the counter leaves t = 1000
    await page.waitForSelector('[data-testid=pause]', { timeout: 120_000 });
    await expect.poll(async () => Number(/^t = (\d+)/.exec((await text('counter'))!)?.[1]), { timeout: 60_000 }).toBeLessThan(990);
    expect(await text('next-hint')).toMatch(/^Denoising: the network predicts the noise ε̂ in xt/);
    // the training panel, below the fold, is one click away from the top
    expect(await page.getAttribute('[data-testid=to-training]', 'href')).toBe('#train-title');
    await shot('first-view-1280');
  });

  it('says when ?backend= is not a backend, and why the page chose the one it did', async () => {
    expect(await text('backend-notices')).toMatch(/'bogus' is not a backend \(the choices are webgpu, webgl, wasm, cpu\)/);
    await page.click('[data-testid=backend-why] summary');
    expect(await text('backend-why')).toMatch(/Why wasm\?.*webgpu: only a software \(fallback\) WebGPU adapter is available/s);
  });

  it('run controls are SVG icons, and keyboard focus stays on the primary button as the run starts, pauses and ends', async () => {
    const glyphs = await page.evaluate(() => [...document.querySelectorAll('button')].some((b) => /[⏸▶■]/.test(b.textContent ?? '')));
    expect(glyphs).toBe(false);
    expect(await page.locator('[data-testid=pause] svg').count()).toBe(1);
    await page.click('[data-testid=stop]');
    await page.waitForSelector('[data-testid=sample]');
    expect(await text('next-hint')).toMatch(/^Stopped\. Press Sample for a new run/);
    await page.selectOption('[data-testid=sampler]', 'ddim');
    await page.focus('[data-testid=sample]');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid=pause]', { timeout: 60_000 });
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('pause');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid=resume]');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('resume');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid=sample]', { timeout: 120_000 });
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('sample');
  });

  it('typing in a number field is not clamped per keystroke; a bad value gets a message and blocks Sample', async () => {
    await page.fill('[data-testid=steps]', '50');
    await page.press('[data-testid=steps]', 'Backspace');
    await page.press('[data-testid=steps]', 'Backspace');
    await page.type('[data-testid=steps]', '20');
    expect(await page.inputValue('[data-testid=steps]')).toBe('20');
    await page.fill('[data-testid=seed]', '-3');
    await page.press('[data-testid=seed]', 'Enter');
    expect(await text('seed-error')).toMatch(/a whole number from 0 to 2147483647/);
    expect(await page.isDisabled('[data-testid=sample]')).toBe(true);
    await page.fill('[data-testid=seed]', '4');
    await page.press('[data-testid=seed]', 'Enter');
    expect(await page.isDisabled('[data-testid=sample]')).toBe(false);
  });

  it('steps/s counts running time only: single steps while paused leave it as it was; the progress bar keeps its width', async () => {
    await page.selectOption('[data-testid=speed]', { label: '10 steps/s' });
    await page.fill('[data-testid=steps]', '30');
    await page.press('[data-testid=steps]', 'Enter');
    const barWidths = new Set<number>();
    const width = () =>
      page.locator('progress[aria-label="Denoising progress"]').evaluate((p) => Math.round(p.getBoundingClientRect().width));
    barWidths.add(await width());
    await page.click('[data-testid=sample]');
    await expect.poll(() => text('rate'), { timeout: 60_000 }).toMatch(/steps\/s/);
    barWidths.add(await width());
    await page.click('[data-testid=pause]');
    await page.waitForSelector('[data-testid=resume]');
    const rate = await text('rate');
    for (let i = 0; i < 2; i++) {
      const before = await text('counter');
      await page.click('[data-testid=step]');
      await page.waitForFunction((b) => document.querySelector('[data-testid=counter]')!.textContent !== b, before);
    }
    expect(await text('rate')).toBe(rate);
    barWidths.add(await width());
    await page.selectOption('[data-testid=speed]', { label: 'Max' });
    await page.click('[data-testid=resume]');
    await page.waitForSelector('[data-testid=sample]', { timeout: 120_000 });
    barWidths.add(await width());
    expect([...barWidths]).toHaveLength(1);
    await shot('run-1280', 'section[aria-labelledby=reverse-title]');
  });

  it('uploads: a file that failed may be offered again (not "a duplicate"), the same file can be picked twice, and Clear clears the rejections', async () => {
    const bad = { name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('this is not a PNG') };
    await page.setInputFiles('[data-testid=data-files]', bad);
    await expect.poll(() => page.locator('[data-testid=data-rejected] li').count()).toBe(1);
    await page.setInputFiles('[data-testid=data-files]', bad);
    await expect.poll(() => page.locator('[data-testid=data-rejected] li').count()).toBe(2);
    expect(await page.locator('[data-testid=data-rejected] li').allTextContents()).toEqual([
      'notes.png: not an image: its contents are not PNG, JPEG, WebP, GIF or BMP, whatever its name says',
      'notes.png: not an image: its contents are not PNG, JPEG, WebP, GIF or BMP, whatever its name says',
    ]);
    expect(await page.isDisabled('[data-testid=data-clear]')).toBe(false);
    await page.click('[data-testid=data-clear]');
    await expect.poll(() => page.locator('[data-testid=data-rejected]').count()).toBe(0);
  });

  it('reads math as math: subscripts in titles and tables, and ε̂ is what the network predicts', async () => {
    expect(await page.locator('#forward-title sub').count()).toBe(2);
    expect(await page.locator('table.values th sub').count()).toBeGreaterThanOrEqual(4);
    expect(await page.textContent('.triptych')).toMatch(/ε̂ — the noise the network predicts in xt/);
    expect(await page.textContent('body')).not.toMatch(/\bx_t\b|β_t/);
    await shot('forward-1280', 'section[aria-labelledby=forward-title]');
    await shot('train-1280', 'section[aria-labelledby=train-title]');
  });

  it('at 390 px nothing overflows its panel, the model choice included', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await expect.poll(() => page.evaluate(() => window.innerWidth)).toBe(390);
    const overflowing = await page.evaluate(() =>
      [...document.querySelectorAll('section.panel')].flatMap((panel) => {
        const right = panel.getBoundingClientRect().right;
        // the trajectory strip and the filmstrip scroll sideways by design
        return [...panel.querySelectorAll('select, input, button, canvas')]
          .filter((el) => !el.closest('.strip, .filmstrip') && el.getBoundingClientRect().right > right + 1)
          .map((el) => el.outerHTML.slice(0, 60));
      }),
    );
    expect(overflowing).toEqual([]);
    await shot('page-390');
    await shot('run-390', 'section[aria-labelledby=reverse-title]');
    await shot('forward-390', 'section[aria-labelledby=forward-title]');
    await shot('train-390', 'section[aria-labelledby=train-title]');
    // the first view on a phone: a fresh page, its run under way
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await phone.goto(`${inject('baseUrl')}/`);
    await phone.waitForSelector('[data-testid=pause]', { timeout: 120_000 });
    await phone.screenshot({ path: `${ARTIFACTS}/first-view-390.png` });
    // the model choices fold away there, so the first screen shows the sample denoising (issue 26, item 14)
    expect(await phone.locator('.model-choices').evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false);
    const xt = await phone.locator('[data-testid=xt]').evaluate((c) => c.getBoundingClientRect().toJSON() as DOMRect);
    expect(xt.top).toBeLessThan(844 - 64);
    await phone.close();
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('draw, then denoise: a stroke on the pad reaches the forward panel’s x0 pixel for pixel, and denoises from any t (SDEdit)', async () => {
    await page.click('[data-testid=draw-toggle]');
    const pad = page.locator('[data-testid=draw-pad]');
    const box = (await pad.boundingBox())!;
    const at = (x: number, y: number) => [box.x + (x / 28) * box.width, box.y + (y / 28) * box.height] as const;
    // a diagonal stroke, model pixels (6, 6) → (20, 22), with the mouse
    await page.mouse.move(...at(6, 6));
    await page.mouse.down();
    for (let k = 1; k <= 8; k++) await page.mouse.move(...at(6 + (14 * k) / 8, 6 + (16 * k) / 8));
    await page.mouse.up();
    const grey = (selector: string) =>
      page
        .locator(selector)
        .evaluate((c) =>
          Array.from((c as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, 28, 28).data).filter((_, i) => i % 4 === 0),
        );
    const drawn = await grey('[data-testid=draw-pad]');
    await expect.poll(() => grey('canvas[aria-label="clean image x0"]')).toEqual(drawn);
    // the stroke is there: white along the diagonal, black in the corners
    expect(drawn[14 * 28 + 13]).toBe(255);
    expect(drawn[0]).toBe(0);
    expect(drawn.filter((v) => v === 255).length).toBeGreaterThan(20);
    // noise it to t = 400 and denoise towards a 3 (DDIM, 20 steps)
    await page.selectOption('[data-testid=sampler]', 'ddim');
    await page.fill('[data-testid=steps]', '20');
    await page.press('[data-testid=steps]', 'Enter');
    await page.locator('[data-testid=forward-slider]').evaluate((el) => {
      Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!.call(el, '400');
      el.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await page.click('[data-testid=denoise-from-here]');
    await expect.poll(() => text('counter'), { timeout: 120_000 }).toMatch(FINISHED);
    await page.waitForSelector('[data-testid=sample]');
    // DDIM 20 of 1000 from t = 400 (0-based 399) visits 350, 300, …, 0: 8 steps
    expect(await text('step-count')).toBe('step 8 / 8');
    await shot('draw-1280', 'section[aria-labelledby=forward-title]');
    await page.click('[data-testid=draw-clear]');
    await page.click('[data-testid=draw-toggle]');
  });

  it('every example picture has its own accessible name, said once (issue 26, item 18)', async () => {
    const names = await page
      .locator('section[aria-labelledby=forward-title] .thumb-button')
      .evaluateAll((bs) => bs.map((b) => ({ name: b.getAttribute('aria-label'), inner: b.querySelectorAll('[aria-label]').length })));
    expect(names.length).toBeGreaterThan(2);
    expect(new Set(names.map((n) => n.name)).size).toBe(names.length);
    for (const n of names) expect(n.inner).toBe(0);
  });

  it('the guidance strip: the same noise at s = 0, 1, 2, 4, 7 in one run of DDIM 10 steps, each with its reading, square, in one row', async () => {
    // whatever sampler is chosen, the strip runs DDIM for 10 steps (issue 26, item 9)
    await page.selectOption('[data-testid=sampler]', 'dpm-solver++');
    // the main thread never blocks: wall-clock long tasks, so (as in page.test) a second run gets a chance
    let long: number[] = [];
    for (let attempt = 0; attempt < 2; attempt++) {
      await clearLongTasks(page);
      await page.click('[data-testid=guidance-strip-run]');
      await expect.poll(() => text('counter'), { timeout: 120_000 }).toMatch(FINISHED);
      await page.waitForSelector('[data-testid=sample]');
      long = (await longTasks(page)).filter((d) => d > 50);
      if (long.length === 0) break;
    }
    expect(long).toEqual([]);
    expect(await text('step-count')).toBe('step 10 / 10');
    expect(await page.locator('[data-testid=guidance-strip] li').count()).toBe(5);
    const cells = await page
      .locator('[data-testid=guidance-strip] canvas')
      .evaluateAll((cs) => cs.map((c) => c.getBoundingClientRect().toJSON() as DOMRect));
    for (const c of cells) {
      expect(c.top).toBeCloseTo(cells[0].top, 0);
      expect(c.width).toBeCloseTo(c.height, 0);
    }
    expect(await page.locator('[data-testid=guidance-strip] li > span:first-of-type').allTextContents()).toEqual([
      's = 0',
      's = 1',
      's = 2',
      's = 4',
      's = 7',
    ]);
    const reads = await page.locator('[data-testid=guidance-read]').allTextContents();
    expect(reads).toHaveLength(5);
    for (const r of reads) expect(r).toMatch(/^p\(3\) \d+ %$/);
    await shot('guidance-strip-1280', '[data-testid=guidance-strip]');
    await page.selectOption('[data-testid=sampler]', 'ddim');
    await page.fill('[data-testid=steps]', '10');
    await page.press('[data-testid=steps]', 'Enter');
  });

  it('samplers side by side: DDPM, DDIM and DPM-Solver++ from the same noise, each with its steps, time and reading', async () => {
    let long: number[] = [];
    for (let attempt = 0; attempt < 2; attempt++) {
      await clearLongTasks(page);
      await page.click('[data-testid=compare-run]');
      await page.waitForSelector('[data-testid=pause]', { timeout: 60_000 }); // this run, not the last one's finished panels
      // the comparison owns the view while it runs: three large live panels instead of the single run's
      await page.waitForSelector('[data-testid=compare]');
      expect(await page.locator('[data-testid=xt], [data-testid=strip]').count()).toBe(0);
      expect((await page.locator('[data-testid=compare] canvas').first().boundingBox())!.width).toBeGreaterThan(200);
      expect(await text('next-hint')).toMatch(/^Comparing: the same noise/);
      expect(await page.isDisabled('[data-testid=export-compare]')).toBe(true);
      for (const name of ['ddpm', 'ddim', 'dpm-solver++'])
        await expect.poll(() => page.getAttribute(`[data-testid="compare-${name}"]`, 'data-done'), { timeout: 240_000 }).toBe('yes');
      await page.waitForSelector('[data-testid=sample]', { timeout: 60_000 });
      long = (await longTasks(page)).filter((d) => d > 50);
      if (long.length === 0) break;
    }
    expect(long).toEqual([]); // three panels redrawn in turn, and the main thread never blocks
    const captions = await page.locator('[data-testid=compare] figcaption').allTextContents();
    expect(captions[0]).toMatch(/^DDPMstep 1000 \/ 1000 · the clean image · [\d.]+ s/);
    expect(captions[1]).toMatch(/^DDIMstep 10 \/ 10 · the clean image · [\d.]+ s/);
    expect(captions[2]).toMatch(/^DPM-Solver\+\+ \(2M\)step 20 \/ 20 · the clean image · [\d.]+ s/);
    for (const c of captions) expect(c).toMatch(/reads as \d \(\d+ %\)$/);
    await page.waitForSelector('[data-testid=sample]', { timeout: 60_000 });
    await shot('compare-1280', '[data-testid=compare]');
    // a finished comparison is a finished run: it says so, and its samples can be checked and exported
    expect(await text('counter')).toBe('finished: three samplers, the same noise');
    expect(await text('next-hint')).toMatch(/^Finished: the same noise through three samplers/);
    expect(await text('memo-check')).toBe('Check the 3 samples');
    expect(await page.isDisabled('[data-testid=memo-check]')).toBe(false);
    const png = page.waitForEvent('download');
    await page.click('[data-testid=export-compare]');
    expect((await png).suggestedFilename()).toBe('ddpm-samplers.png');
  });

  it('a link holds the settings: opened elsewhere it shows them and reproduces the same run; bad values are ignored', async () => {
    const context = await browser.newContext({
      viewport: { width: 1280, height: 800 },
      reducedMotion: 'reduce',
      permissions: ['clipboard-read', 'clipboard-write'],
    });
    const a = await context.newPage();
    await a.goto(`${inject('baseUrl')}/?sampler=ddim&steps=12&seed=42&label=7&guidance=2&batch=4&t=300`);
    await a.waitForSelector('[data-testid=sample]', { timeout: 120_000 });
    expect(await a.inputValue('[data-testid=sampler]')).toBe('ddim');
    expect(await a.inputValue('[data-testid=steps]')).toBe('12');
    expect(await a.inputValue('[data-testid=seed]')).toBe('42');
    expect(await a.inputValue('[data-testid=label]')).toBe('7');
    expect(await a.inputValue('[data-testid=batch]')).toBe('4');
    expect(await a.textContent('[data-testid=forward-t]')).toBe('300');
    // change one setting, run, copy the link
    await a.fill('[data-testid=seed]', '43');
    await a.press('[data-testid=seed]', 'Enter');
    await a.click('[data-testid=sample]');
    await expect.poll(() => a.textContent('[data-testid=counter]'), { timeout: 120_000 }).toMatch(FINISHED);
    await a.waitForSelector('[data-testid=sample]');
    const pixels = (p: Page) => p.evaluate(() => document.querySelector<HTMLCanvasElement>('[data-testid=xt]')!.toDataURL());
    const first = await pixels(a);
    await a.click('[data-testid=copy-link]');
    await expect.poll(() => a.textContent('[data-testid=copy-status]')).toMatch(/^Link copied/);
    const link = await a.evaluate(() => navigator.clipboard.readText());
    expect(new URL(link).searchParams.get('seed')).toBe('43');
    // the link in a fresh page: same settings, same run, same pixels
    const b = await context.newPage();
    await b.goto(link);
    await b.waitForSelector('[data-testid=sample]', { timeout: 120_000 });
    await b.click('[data-testid=sample]');
    await expect.poll(() => b.textContent('[data-testid=counter]'), { timeout: 120_000 }).toMatch(FINISHED);
    await b.waitForSelector('[data-testid=sample]');
    expect(await pixels(b)).toBe(first);
    // nonsense in the address falls back to the defaults
    const c = await context.newPage();
    await c.goto(`${inject('baseUrl')}/?sampler=euler&steps=abc&label=99&seed=-5&t=5000`);
    await c.waitForSelector('[data-testid=sample]', { timeout: 120_000 });
    expect(await c.inputValue('[data-testid=sampler]')).toBe('ddpm');
    expect(await c.inputValue('[data-testid=label]')).toBe('3');
    expect(await c.inputValue('[data-testid=seed]')).toBe('0');
    expect(await c.textContent('[data-testid=forward-t]')).toBe('500');
    await context.close();
  });

  it('no console errors or warnings', () => {
    expect(problems).toEqual([]);
  });
});
