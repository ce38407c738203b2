import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { collectConsoleProblems, launchChromium } from './chromium';

/**
 * The shipped colour model (issue 27): a diffusers UNet2DModel folder in public/models/emoji, opened
 * from the model bar or a link, in every panel in colour — its categories and guidance, a short
 * DPM-Solver++ run read by the emoji meter, the forward panel on its sample, drawing at its size —
 * and back to the digits. Few steps: the wasm backend in a headless browser.
 */
let browser: Browser;
let page: Page;
let problems: string[];

const text = (testId: string) => page.textContent(`[data-testid=${testId}]`);
const CATEGORIES = [
  'Smileys & Emotion',
  'People & Body',
  'Animals & Nature',
  'Food & Drink',
  'Travel & Places',
  'Activities',
  'Objects',
  'Symbols',
  'Flags',
];

/** A canvas' RGBA pixels. */
const pixels = (selector: string) =>
  page.locator(selector).evaluate((c) => {
    const canvas = c as HTMLCanvasElement;
    return Array.from(canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data);
  });
/** Somewhere red and green differ: a colour picture, not a grey one. */
const colourful = (rgba: number[]) => rgba.some((v, i) => i % 4 === 0 && Math.abs(v - rgba[i + 1]) > 16);

beforeAll(async () => {
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 }, reducedMotion: 'reduce' });
  problems = collectConsoleProblems(page);
  await page.goto(`${inject('baseUrl')}/?backend=wasm`);
  await page.waitForSelector('[data-testid=sample]', { timeout: 120_000 });
});
afterAll(async () => {
  await browser?.close();
});

describe('the shipped emoji model', () => {
  it('opens from the model bar with its categories, "anything" and guidance, and the address names it', async () => {
    await page.click('[data-testid=use-emoji-model]');
    await expect
      .poll(() => text('active-model'), { timeout: 60_000 })
      .toMatch(/the shipped emoji model \(32 px colour\) \(32×32 RGB, 1\.12M parameters\)/);
    expect(await page.locator('[data-testid=label] option').allTextContents()).toEqual([...CATEGORIES, 'anything (no label)']);
    expect(await page.locator('[data-testid=guidance]').count()).toBe(1);
    // its measured first settings (docs/colour.md): Smileys & Emotion, DPM-Solver++ 20 steps, guidance 3.5
    expect(await page.locator('[data-testid=label] option:checked').textContent()).toBe('Smileys & Emotion');
    expect(await page.inputValue('[data-testid=sampler]')).toBe('dpm-solver++');
    expect(await page.inputValue('[data-testid=guidance]')).toBe('3.5');
    expect(new URL(page.url()).searchParams.get('model')).toBe('emoji');
    expect(await text('memo-unavailable')).toMatch(/trained by tools\/torch on the Noto emoji/);
  });

  it('samples a category in colour, read by the emoji meter; the forward panel noises the sample; drawing works at 32 px', async () => {
    await page.selectOption('[data-testid=label]', { label: 'Flags' });
    await page.selectOption('[data-testid=sampler]', 'dpm-solver++');
    await page.fill('[data-testid=steps]', '4');
    await page.click('[data-testid=sample]');
    await expect.poll(() => text('step-count'), { timeout: 120_000 }).toBe('step 4 / 4');
    await page.waitForSelector('[data-testid=sample]', { timeout: 60_000 });
    const sample = await pixels('[data-testid="xt"]');
    expect(colourful(sample)).toBe(true);
    // the meter reads x̂0 with the emoji classifier: nine categories, named
    const probs = JSON.parse((await page.getAttribute('[data-testid=meter]', 'data-probs'))!) as number[];
    expect(probs).toHaveLength(9);
    expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 2);
    expect(await page.locator('[data-testid=meter] .bar span').allTextContents()).toEqual(CATEGORIES.map((c) => c.split(/[\s&]/)[0]));
    expect(await text('meter-text')).toMatch(new RegExp(`^reads as (${CATEGORIES.join('|')}) \\(\\d+ %\\)`));
    // the forward panel at t = 0 shows the sample itself, in colour
    await page.click('[data-testid=forward-last-sample]');
    await expect.poll(async () => colourful(await pixels('canvas[aria-label="clean image x0"]'))).toBe(true);
    // draw: a white stroke becomes the model's 32×32 colour x0
    await page.click('[data-testid=draw-toggle]');
    const box = (await page.locator('[data-testid=draw-pad]').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.2, box.y + box.height * 0.5);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.8, box.y + box.height * 0.5, { steps: 8 });
    await page.mouse.up();
    const x0 = await pixels('canvas[aria-label="clean image x0"]');
    expect(x0.length).toBe(32 * 32 * 4);
    expect(x0.filter((v, i) => i % 4 === 0 && v === 255 && x0[i + 1] === 255 && x0[i + 2] === 255).length).toBeGreaterThan(8);
    await page.click('[data-testid=draw-toggle]');
  });

  it('a link opens it, and the shipped digits model takes it out of the address', async () => {
    await page.goto(`${inject('baseUrl')}/?backend=wasm&model=emoji`);
    await expect.poll(() => text('active-model'), { timeout: 120_000 }).toMatch(/the shipped emoji model/);
    await page.click('[data-testid=use-shipped]');
    await expect.poll(() => text('active-model'), { timeout: 30_000 }).toMatch(/shipped digits model/);
    expect(new URL(page.url()).searchParams.get('model')).toBeNull();
  });

  it('logs no console errors or warnings', () => {
    expect(problems).toEqual([]);
  });
});
