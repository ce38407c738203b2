import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'vite';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const out = mkdtempSync(join(tmpdir(), 'ddpm-bundle-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** A string of tfjs-core's engine that survives minification: where it is, tfjs is. */
const TFJS_MARKER = 'Cannot find registered kernel';
/** The main thread's JavaScript budget (the UI, React, gifenc; tfjs lives in the worker). */
const MAIN_BUDGET_KB = 300;

/**
 * The page as `npm run build` ships it: the main thread must not load tfjs (the UI never imports it;
 * all tensor work runs in the engine worker), which also keeps the page's first load small. Before
 * this check the panel's loss-bucket count pulled src/training/session.ts, and tfjs with it, into
 * the main bundle: 1,150 kB.
 */
describe('the production bundle', () => {
  it(`loads no tfjs on the main thread, and at most ${MAIN_BUDGET_KB} kB of JavaScript there`, { timeout: 120_000 }, async () => {
    const nodeEnv = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production'; // Vitest's 'test' would give React's development build
    try {
      await build({ root: ROOT, mode: 'production', logLevel: 'warn', build: { outDir: out, emptyOutDir: true } });
    } finally {
      process.env.NODE_ENV = nodeEnv;
    }
    const assets = join(out, 'assets');
    const js = readdirSync(assets).filter((f) => f.endsWith('.js'));
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    // what index.html loads, and what that imports, except the worker (a separate file it starts)
    const pageScripts = new Set<string>();
    const visit = (file: string) => {
      if (pageScripts.has(file)) return;
      pageScripts.add(file);
      const code = readFileSync(join(assets, file), 'utf8');
      for (const m of code.matchAll(/["'`]\.\/([\w.-]+\.js)["'`]/g)) if (js.includes(m[1]) && !m[1].includes('worker')) visit(m[1]);
    };
    for (const m of html.matchAll(/assets\/([\w.-]+\.js)/g)) visit(m[1]);
    expect(pageScripts.size).toBeGreaterThan(0);
    const worker = js.find((f) => f.startsWith('engine.worker'));
    expect(worker && readFileSync(join(assets, worker), 'utf8').includes(TFJS_MARKER), 'the marker should find tfjs in the worker').toBe(
      true,
    );
    let bytes = 0;
    for (const f of pageScripts) {
      expect(readFileSync(join(assets, f), 'utf8').includes(TFJS_MARKER), `${f} contains tfjs`).toBe(false);
      bytes += statSync(join(assets, f)).size;
    }
    console.info(`main thread: ${[...pageScripts].join(', ')}: ${(bytes / 1000).toFixed(0)} kB`);
    expect(bytes / 1000).toBeLessThanOrEqual(MAIN_BUDGET_KB);
  });
});
