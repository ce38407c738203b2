import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { clearLongTasks, collectConsoleProblems, launchChromium, longTasks, setRange, trackLongTasks } from './chromium';

/**
 * Text to image in the page (issue 25): the shipped captioned-digits model, opened by a link; its
 * prompt box with the words it does not know named, the live cross-attention maps per word, the
 * prompt switch, and the prompt kept in the address.
 */
const ARTIFACTS = 'test-artifacts';
let browser: Browser;
let page: Page;
let problems: string[];

const text = (testId: string) => page.textContent(`[data-testid=${testId}]`);

/** Runs the current settings to the end (DPM-Solver++, 20 steps, the text model's default). */
async function sampleToEnd(): Promise<void> {
  await page.click('[data-testid=sample]');
  await expect.poll(() => text('step-count'), { timeout: 240_000 }).toBe('step 20 / 20');
  await page.waitForSelector('[data-testid=sample]', { timeout: 240_000 });
}

/** The final x̂0 canvas' grey values (the first image). */
const finalPixels = () =>
  page.evaluate(() => {
    const c = document.querySelector<HTMLCanvasElement>('[data-testid="x0"]')!;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    return Array.from({ length: d.length / 4 }, (_, i) => d[i * 4]);
  });

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 }, reducedMotion: 'reduce' });
  problems = collectConsoleProblems(page);
  await trackLongTasks(page);
  await page.goto(`${inject('baseUrl')}/?model=captioned-digits&backend=wasm`);
  await page.waitForSelector('[data-testid=prompt]', { timeout: 120_000 });
});
afterAll(async () => {
  await browser?.close();
});

describe('text to image', () => {
  it('a link opens the text model on its prompt; unknown words are marked and named, and the address keeps the prompt', async () => {
    expect(await text('active-model')).toMatch(/text-to-image model \(captioned digits\) \(48×48 grey/);
    expect(await page.inputValue('[data-testid=prompt]')).toBe('a small 3 in the top left');
    expect(await page.inputValue('[data-testid=sampler]')).toBe('dpm-solver++');
    await page.fill('[data-testid=prompt]', 'a small cat in the top left');
    expect(await text('prompt-words-unread')).toBe("the model doesn't know 'cat'");
    expect(await page.locator('[data-testid=prompt-words] .word.unknown').allTextContents()).toEqual(['cat']);
    expect(new URL(page.url()).searchParams.get('prompt')).toBe('a small cat in the top left');
    await page.click('.vocabulary summary');
    expect(await text('vocabulary')).toMatch(/\bseven\b.*\btop\b/);
    await page.fill('[data-testid=prompt]', 'a small 4 in the top right');
    expect(await page.locator('[data-testid=prompt-words-unread]').count()).toBe(0);
  });

  it('shows per word where it steers the picture, live, without long main-thread tasks', async () => {
    await setRange(page, 'guidance', 3);
    await clearLongTasks(page);
    const started = Date.now();
    await sampleToEnd();
    console.info(`text model, DPM-Solver++ 20 steps, guidance 3, wasm: ${((Date.now() - started) / 1000).toFixed(1)} s in the page`);
    const words = await page
      .locator('[data-testid^=attention-word-]')
      .evaluateAll((els) => els.map((e) => ({ word: e.getAttribute('data-word'), where: e.getAttribute('data-where') })));
    expect(words.map((w) => w.word)).toEqual(['start', 'a', 'small', '4', 'in', 'the', 'top', 'right']);
    // mid-run, where the layout is decided (the step at t = 401, whose image is at 351), the digit's
    // own word attends where the prompt put it (at the end its map spreads: the digit is drawn)
    await page.click('[data-testid=strip] button[aria-label="step t = 351"]');
    expect(await text('attention-t')).toBe('401');
    await expect.poll(() => page.getAttribute('[data-testid^=attention-word-][data-word="4"]', 'data-where')).toBe('top right');
    await page.click('text=Back to live');
    // the meter reads the digit off the picture's ink, following the digit the prompt names
    expect(await text('meter-text')).toMatch(/\b4\b/);
    await page.locator('[data-testid=attention-maps]').screenshot({ path: `${ARTIFACTS}/attention-maps.png` });
    expect(await longTasks(page)).toEqual([]);
  });

  it('a prompt switch mid-run changes the final digit', async () => {
    await page.fill('[data-testid=prompt]', 'a large 3');
    await sampleToEnd();
    const plain = await finalPixels();
    expect(await text('meter-text')).toMatch(/^reads as 3\b/);
    await page.check('[data-testid=switch-enabled]');
    await setRange(page, 'switch-at', 599);
    await page.fill('[data-testid=switch-prompt]', 'a large 8');
    expect(new URL(page.url()).searchParams.get('switchAt')).toBe('599');
    await sampleToEnd();
    // after the switch the maps read the second prompt's words
    expect(await page.locator('[data-testid=attention-word-3]').getAttribute('data-word')).toBe('8');
    const switched = await finalPixels();
    const changed = plain.filter((v, i) => Math.abs(v - switched[i]) > 64).length;
    expect(changed).toBeGreaterThan(plain.length * 0.02);
    // and the final digit is the second prompt's
    expect(await text('meter-text')).toMatch(/^reads as 8\b/);
    expect(problems).toEqual([]);
  });
});
