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
/**
 * The main thread's JavaScript budget at first load (the UI, React, gifenc; tfjs lives in the worker).
 * 300 kB until the text model (the page was at 299.9): its prompt in the settings, the address and
 * the model bar added 4 kB; its prompt fields and attention maps (5 kB) load with the first text model.
 * The side-by-side view, the drawing pad and the training progress view (loss chart, filmstrip) load
 * when first used: 307 kB after issue 26's comparison view, class previews and step labels.
 */
const MAIN_BUDGET_KB = 310;

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
    // what index.html loads, and what that imports (`from"./x.js"`, `import"./x.js"`), except the worker
    // (a separate file it starts); `lazy`: also every other file it names — what it imports on demand
    // (import(`./x.js`) and Vite's preload list: the text model's panels)
    const reach = (lazy: boolean) => {
      const scripts = new Set<string>();
      const visit = (file: string) => {
        if (scripts.has(file)) return;
        scripts.add(file);
        const code = readFileSync(join(assets, file), 'utf8');
        for (const m of code.matchAll(/(\bfrom\s*|\bimport\s*)?["'`]\.\/([\w.-]+\.js)["'`]/g))
          if (js.includes(m[2]) && !m[2].includes('worker') && (lazy || m[1])) visit(m[2]);
      };
      for (const m of html.matchAll(/assets\/([\w.-]+\.js)/g)) visit(m[1]);
      return scripts;
    };
    const pageScripts = reach(true);
    const firstLoad = reach(false);
    expect(pageScripts.size).toBeGreaterThan(0);
    const worker = js.find((f) => f.startsWith('engine.worker'));
    expect(worker && readFileSync(join(assets, worker), 'utf8').includes(TFJS_MARKER), 'the marker should find tfjs in the worker').toBe(
      true,
    );
    for (const f of pageScripts) expect(readFileSync(join(assets, f), 'utf8').includes(TFJS_MARKER), `${f} contains tfjs`).toBe(false);
    const kB = (files: Set<string>) => [...files].reduce((n, f) => n + statSync(join(assets, f)).size, 0) / 1000;
    const onDemand = [...pageScripts].filter((f) => !firstLoad.has(f));
    expect(onDemand.length, 'the text model panels load on demand').toBeGreaterThan(0);
    console.info(
      `main thread: ${[...firstLoad].join(', ')}: ${kB(firstLoad).toFixed(0)} kB at first load; on demand ${onDemand.join(', ')}: ${(kB(pageScripts) - kB(firstLoad)).toFixed(0)} kB`,
    );
    expect(kB(firstLoad)).toBeLessThanOrEqual(MAIN_BUDGET_KB);
  });
});
