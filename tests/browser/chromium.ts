import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium (apt-get install chromium); override with CHROMIUM_PATH. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags measured to give headless WebGPU on SwiftShader here (../shared/FACTS.md), and no stray network. */
const FLAGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--use-webgpu-adapter=swiftshader',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    // playwright gives every launch a fresh, empty user-data-dir of its own
    args: FLAGS,
  });
}

/** Collects console errors/warnings and uncaught page errors, for "no console errors" assertions. */
export function collectConsoleProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  return problems;
}

/** A browser with the test harness page (harness.html, `window.harness`) loaded and ready. */
export async function openHarness(baseUrl: string): Promise<{ browser: Browser; page: Page }> {
  const browser = await launchChromium();
  const page = await browser.newPage();
  await page.goto(`${baseUrl}/harness.html`);
  await page.waitForFunction(() => document.title === 'harness ready');
  return { browser, page };
}

/**
 * Records main-thread long tasks (durations in ms) from page load on: read them with longTasks(page),
 * forget them with clearLongTasks(page).
 */
export async function trackLongTasks(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as unknown as { longTasks: number[] };
    w.longTasks = [];
    new PerformanceObserver((list) => list.getEntries().forEach((e) => w.longTasks.push(e.duration))).observe({
      type: 'longtask',
      buffered: true,
    });
  });
}

export const longTasks = (page: Page): Promise<number[]> =>
  page.evaluate(() => (window as unknown as { longTasks: number[] }).longTasks.slice());
export const clearLongTasks = (page: Page): Promise<void> =>
  page.evaluate(() => void ((window as unknown as { longTasks: number[] }).longTasks.length = 0));

/** Sets a range input's value as a person dragging it would (React sees an input event). */
export async function setRange(page: Page, testId: string, value: number): Promise<void> {
  await page.locator(`[data-testid="${testId}"]`).evaluate((el, v) => {
    const input = el as HTMLInputElement;
    Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!.call(input, String(v));
    input.dispatchEvent(new Event('input', { bubbles: true }));
  }, value);
}

/** The reverse panel's counter once a run has reached the clean image ("t = 1 → 0 (clean)"). */
export const FINISHED = /→ 0 \(clean\)$/;
