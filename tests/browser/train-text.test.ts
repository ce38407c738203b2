import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { collectConsoleProblems, launchChromium, FINISHED } from './chromium';
import { png } from '../fixtures/images';

/**
 * Training a text-to-image model in the page (issue 25, item 4), on the WASM backend with tiny
 * shapes: captioned uploads (a captions.txt with every kind of bad line), the captioned digits
 * example, a few training steps, the trained model used with a prompt, exported and imported again.
 */
const ARTIFACTS = 'test-artifacts';
let browser: Browser;
let page: Page;
let problems: string[];
const tmp = mkdtempSync(join(tmpdir(), 'ddpm-train-text-'));

const text = (testId: string) => page.textContent(`[data-testid=${testId}]`);
const captions = () => page.locator('[data-testid=data-caption]').allTextContents();

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true, reducedMotion: 'reduce' });
  problems = collectConsoleProblems(page);
  await page.goto(`${inject('baseUrl')}/?backend=wasm`);
  await page.waitForSelector('[data-testid=sample]', { timeout: 120_000 });
});
afterAll(async () => {
  await browser?.close();
});

describe('training on captioned pictures', () => {
  it('reads a captions.txt beside the pictures: captions under the previews, every bad line explained, no picture lost', async () => {
    const captionsTxt = [
      'disc-1.png\ta round disc',
      'disc-2.png:',
      'bar-1.png: a thin bar',
      'cat.png\ta cat',
      'no separator on this line',
      `bar-1.png\t${Array.from({ length: 20 }, (_, i) => `w${i}`).join(' ')}`,
    ].join('\n');
    await page.setInputFiles('[data-testid=data-files]', [
      { name: 'disc-1.png', mimeType: 'image/png', buffer: png(24, 24, 'disc') },
      { name: 'disc-2.png', mimeType: 'image/png', buffer: png(26, 26, 'disc') },
      { name: 'bar-1.png', mimeType: 'image/png', buffer: png(24, 24, 'bar') },
      { name: 'thin-bar_7.png', mimeType: 'image/png', buffer: png(26, 26, 'bar') },
      { name: 'captions.txt', mimeType: 'text/plain', buffer: Buffer.from(captionsTxt) },
    ]);
    await expect.poll(() => text('data-count'), { timeout: 60_000 }).toBe('4 images ready, captioned (a text-to-image model)');
    expect(await page.isChecked('[data-testid=data-captions]')).toBe(true);
    // the captions file is not a rejected picture
    expect(await page.locator('[data-testid=data-rejected]').count()).toBe(0);
    // the captioned preview loads on demand
    await expect.poll(captions).toEqual(['a round disc', 'disc', 'a thin bar', 'thin bar']);
    expect(await text('caption-source')).toMatch(/^Captions from captions\.txt: 5 different words, .*up to 15 words a caption/);
    expect(await page.locator('[data-testid=caption-problems] li').allTextContents()).toEqual([
      "captions.txt line 5 needs a file name, then a tab or ':', then the caption; it is skipped",
      'captions.txt line 4 names cat.png, which is not among the pictures; it is skipped',
      'captions.txt line 2: the caption of disc-2.png is empty; it is captioned by its file name instead',
      'captions.txt line 6 captions bar-1.png again (captions.txt line 3 did already); the first is used',
      '1 picture has no caption in captions.txt (thin-bar_7.png); it is captioned by its file name',
    ]);
    // captions train a text model: the shipped (class-label) model is not offered even for 28×28 grey
    expect(await page.isDisabled('[data-testid=train-model] option[value=shipped]')).toBe(true);
    // a captions file that names none of them: one message, and the pictures stay
    await page.setInputFiles('[data-testid=data-files]', [
      { name: 'captions.txt', mimeType: 'text/plain', buffer: Buffer.from('x.png\tone\ny.png\ttwo') },
    ]);
    await expect
      .poll(() => page.locator('[data-testid=caption-problems] li').allTextContents())
      .toEqual([
        'captions.txt names none of the 4 pictures (it names x.png, y.png); check the file names, or that the pictures were added',
      ]);
    expect(await text('data-count')).toBe('4 images ready, captioned (a text-to-image model)');
    expect(await captions()).toEqual(['disc', 'disc', 'bar', 'thin bar']);
    // captions off: the same pictures train an unconditional model
    // (the box shows the worker's state: it changes when the new summary comes back, not on the click)
    await page.click('[data-testid=data-captions]');
    await expect.poll(() => text('data-count')).toBe('4 images ready (no classes: an unconditional model)');
    expect(await page.isChecked('[data-testid=data-captions]')).toBe(false);
    expect(await page.locator('[data-testid=data-caption]').count()).toBe(0);
    await page.screenshot({ path: `${ARTIFACTS}/train-captions.png`, fullPage: true });
  });

  it('trains on the captioned digits example; the trained model takes prompts, and its export keeps its words', async () => {
    await page.click('[data-testid=data-example-captioned]');
    await expect.poll(() => text('data-count'), { timeout: 60_000 }).toBe('2000 images ready, captioned (a text-to-image model)');
    expect(await page.inputValue('[data-testid=data-size]')).toBe('32');
    await expect.poll(() => page.locator('[data-testid=data-caption]').count()).toBe(48);
    const shown = await captions();
    // each caption says which digit, in figures or words ("a small 3 in the top left", "tiny three, upper left", "the number 7")
    for (const c of shown) expect(c).toMatch(/\b([0-9]|zero|one|two|three|four|five|six|seven|eight|nine)\b/);
    expect(await text('caption-source')).toMatch(/^Captions from the set itself: \d\d different words/);
    expect(await page.locator('[data-testid=caption-problems]').count()).toBe(0);
    await page.screenshot({ path: `${ARTIFACTS}/train-captioned-digits.png`, fullPage: true });

    await expect.poll(() => page.inputValue('[data-testid=train-model]')).toBe('tiny');
    await page.selectOption('[data-testid=train-batch]', '4');
    await page.fill('[data-testid=train-steps]', '3');
    await page.fill('[data-testid=train-lr]', '0.003');
    await page.fill('[data-testid=train-preview-every]', '3');
    await page.click('[data-testid=train-start]');
    await expect.poll(() => text('train-stopped'), { timeout: 240_000 }).toMatch(/Training finished/);
    expect(await text('train-step')).toMatch(/step 3 \/ 3/);
    // the EMA preview was drawn for the set's first captions, a row for each, named
    expect(await page.locator('[data-testid=film-step]').allTextContents()).toEqual(['step 3']);
    const asked = await page.locator('[data-testid=film-asked]').allTextContents();
    expect(asked.length).toBeGreaterThan(1);
    for (const a of asked) expect(shown).toContain(a);
    expect(await page.locator('[data-testid=train-error]').count()).toBe(0);

    await page.click('[data-testid=use-trained]');
    await expect.poll(() => text('active-model'), { timeout: 60_000 }).toMatch(/the model trained here \(32×32 grey/);
    // a text model: the prompt box, with the captions' words
    await page.waitForSelector('[data-testid=prompt]', { timeout: 60_000 });
    await page.fill('[data-testid=prompt]', 'a small 3 in the top left');
    expect(await page.locator('[data-testid=prompt-words-unread]').count()).toBe(0);
    await page.fill('[data-testid=prompt]', 'a small cat');
    expect(await text('prompt-words-unread')).toBe("the model doesn't know 'cat'");
    await page.fill('[data-testid=prompt]', 'a large 7');
    await page.selectOption('[data-testid=sampler]', 'ddim');
    await page.fill('[data-testid=steps]', '2');
    await page.click('[data-testid=sample]');
    await expect.poll(() => text('counter'), { timeout: 120_000 }).toMatch(FINISHED);
    expect(await page.locator('[data-testid=xt]').evaluate((c) => (c as HTMLCanvasElement).width)).toBe(32);
    expect(await page.locator('[data-testid=error]').count()).toBe(0);

    // exported and imported again: the same text model, its vocabulary in its config
    const download = page.waitForEvent('download');
    await page.click('[data-testid=export-model]');
    const file = join(tmp, (await download).suggestedFilename());
    await (await download).saveAs(file);
    expect(readFileSync(file).subarray(0, 16).toString()).toBe('DDPM-PLAYGROUND\n');
    await page.click('[data-testid=use-shipped]');
    await expect.poll(() => page.locator('[data-testid=prompt]').count()).toBe(0);
    await page.setInputFiles('[data-testid=import-model]', file);
    await expect.poll(() => text('active-model'), { timeout: 60_000 }).toMatch(/an imported model \(32×32 grey/);
    await page.waitForSelector('[data-testid=prompt]', { timeout: 60_000 });
    await page.fill('[data-testid=prompt]', 'a small cat');
    expect(await text('prompt-words-unread')).toBe("the model doesn't know 'cat'");
  });

  it('after a reload the saved text model is usable at once, its data set captioned as before', async () => {
    await page.reload();
    await page.waitForSelector('[data-testid=sample]', { timeout: 120_000 });
    await expect
      .poll(() => text('saved-run'), { timeout: 30_000 })
      .toMatch(/A trained model is saved in this browser: 3 steps on 2000 images/);
    await page.click('[data-testid=use-trained]');
    await expect.poll(() => text('active-model'), { timeout: 60_000 }).toMatch(/the model trained here \(32×32 grey/);
    await page.waitForSelector('[data-testid=prompt]', { timeout: 60_000 });
    // the saved run's pictures came back with their captions
    await expect.poll(() => text('data-count'), { timeout: 30_000 }).toBe('2000 images ready, captioned (a text-to-image model)');
    await expect.poll(() => page.locator('[data-testid=data-caption]').count()).toBe(48);
  });

  it('logs no console errors or warnings', () => {
    expect(problems).toEqual([]);
  });
});
