import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { collectConsoleProblems, launchChromium } from './chromium';

/**
 * The page on a static host that sends no COOP/COEP headers (the test's plain server): the service
 * worker (public/coi-serviceworker.js) adds them and the page reloads once, isolated, with threads;
 * with service workers blocked it runs one thread and says why.
 */
let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

describe('cross-origin isolation on a host without headers', () => {
  it('the service worker makes the page isolated after one reload, and WebAssembly runs threads', async () => {
    const page = await browser.newPage();
    const problems = collectConsoleProblems(page);
    const loads: string[] = [];
    page.on('load', () => loads.push(page.url()));
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`${inject('plainUrl')}/`);
    await page.waitForSelector('[data-testid=threads]', { timeout: 120_000 });
    expect(await page.evaluate(() => window.crossOriginIsolated)).toBe(true);
    expect(await page.evaluate(() => navigator.serviceWorker.controller?.scriptURL)).toMatch(/coi-serviceworker\.js$/);
    expect(loads).toHaveLength(2); // the first load, and the one reload
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    expect(await page.textContent('[data-testid=threads]')).toBe(` · ${cores} threads`);
    const origin = new URL(inject('plainUrl')).origin;
    expect(requests.filter((u) => !u.startsWith(origin) && !u.startsWith('blob:') && !u.startsWith('data:'))).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('without service workers it runs one thread, and the page says why', async () => {
    const context = await browser.newContext({ serviceWorkers: 'block' });
    const page = await context.newPage();
    await page.goto(`${inject('plainUrl')}/`);
    await page.waitForSelector('[data-testid=threads]', { timeout: 120_000 });
    expect(await page.evaluate(() => window.crossOriginIsolated)).toBe(false);
    expect(await page.textContent('[data-testid=threads]')).toBe(' · 1 thread');
    expect(await page.textContent('[data-testid=threads-note]')).toMatch(
      /one thread: the page is not cross-origin isolated \(its server sends no COOP\/COEP headers/,
    );
    await context.close();
  });
});
