import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { encodePng } from '../../scripts/png';
import { collectConsoleProblems, launchChromium } from './chromium';

/**
 * Opening diffusers models from the Hugging Face Hub, against a local server with the hub's URL
 * layout (`/{owner}/{name}/resolve/{revision}/{path}`, CORS like the hub): a model found, loaded and
 * sampled in colour; a repo that does not exist; a download cut short; a repo that is not a
 * UNet2DModel; and a second load that asks the network nothing (Cache Storage).
 */
const FIXTURES = 'tests/fixtures/diffusers';
const REPOS: Record<string, string> = {
  'test/attn-rgb': 'attn-f32',
  'test/truncated': 'attn-f32',
  'test/not-a-unet': 'attn-f32',
  'test/huge': 'attn-f32',
};
let hub: Server;
let hubUrl: string;
const requests: string[] = [];
let browser: Browser;
let context: BrowserContext;
let page: Page;
let problems: string[];

function startHub(): Promise<void> {
  hub = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const cors = { 'access-control-allow-origin': '*', 'access-control-expose-headers': 'content-length' };
    const m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(req.url ?? '');
    const folder = m && m[2] === 'main' ? REPOS[m[1]] : undefined;
    const file = folder && m ? join(FIXTURES, folder, m[3]) : null;
    if (!file || !existsSync(file)) {
      res.writeHead(404, cors).end('Entry not found');
      return;
    }
    let body: Buffer = readFileSync(file);
    if (m![1] === 'test/not-a-unet' && m![3] === 'config.json')
      body = Buffer.from(JSON.stringify({ ...(JSON.parse(body.toString()) as object), _class_name: 'UNet2DConditionModel' }));
    const truncated = m![1] === 'test/truncated' && m![3].endsWith('.safetensors');
    if (m![1] === 'test/huge' && m![3].endsWith('.safetensors')) {
      // a 3 GB file, announced and never sent
      res.writeHead(200, { ...cors, 'content-type': 'application/octet-stream', 'content-length': String(3 * 1024 ** 3) });
      if (req.method === 'HEAD') return res.end();
      res.flushHeaders();
      req.on('close', () => res.destroy());
      return;
    }
    res.writeHead(200, { ...cors, 'content-type': 'application/octet-stream', 'content-length': String(body.length) });
    if (req.method === 'HEAD') return res.end();
    if (truncated) {
      // half the announced bytes, then the connection drops
      res.write(body.subarray(0, body.length >> 1), () => res.destroy());
      return;
    }
    res.end(body);
  });
  return new Promise((ok) =>
    hub.listen(0, '127.0.0.1', () => {
      hubUrl = `http://127.0.0.1:${(hub.address() as AddressInfo).port}`;
      ok();
    }),
  );
}

/** An 8×8 red PNG (the model's size), for the forward panel. */
function redPng(): Buffer {
  return encodePng(
    Uint8Array.from({ length: 8 * 8 * 3 }, (_, i) => (i % 3 === 0 ? 230 : 20)),
    8,
    8,
    3,
  );
}

/** Each frame's colour table of a GIF (gifenc writes one per frame), as [r, g, b] entries. */
function gifPalettes(bytes: Buffer): [number, number, number][][] {
  const table = (at: number, flags: number) => {
    const n = 2 ** ((flags & 7) + 1);
    return Array.from(
      { length: n },
      (_, i) => [bytes[at + 3 * i], bytes[at + 3 * i + 1], bytes[at + 3 * i + 2]] as [number, number, number],
    );
  };
  const palettes: [number, number, number][][] = [];
  let at = 13 + (bytes[10] & 0x80 ? 3 * 2 ** ((bytes[10] & 7) + 1) : 0); // header, screen descriptor, global table
  const skipSubBlocks = () => {
    while (bytes[at] !== 0) at += bytes[at] + 1;
    at++;
  };
  while (at < bytes.length && bytes[at] !== 0x3b) {
    if (bytes[at] === 0x21) {
      at += 2; // extension: introducer, label, then sub-blocks
      skipSubBlocks();
    } else if (bytes[at] === 0x2c) {
      const flags = bytes[at + 9];
      at += 10;
      if (flags & 0x80) {
        palettes.push(table(at, flags));
        at += 3 * 2 ** ((flags & 7) + 1);
      }
      at++; // LZW minimum code size
      skipSubBlocks();
    } else throw new Error(`not a GIF block at byte ${at}: ${bytes[at]}`);
  }
  return palettes;
}

async function open(repo: string): Promise<void> {
  await page.fill('[data-testid=hub-repo]', repo);
  await page.click('[data-testid=hub-open]');
}

beforeAll(async () => {
  await startHub();
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1280, height: 900 }, reducedMotion: 'reduce', acceptDownloads: true });
  page = await context.newPage();
  problems = collectConsoleProblems(page);
  await page.goto(`${inject('baseUrl')}/?backend=wasm&hub=${encodeURIComponent(hubUrl)}`);
  await page.waitForSelector('[data-testid=sample]', { timeout: 120_000 });
});
afterAll(async () => {
  await browser?.close();
  await new Promise((ok) => hub?.close(ok));
});

describe('diffusers models from the hub', () => {
  it('a repo that does not exist: a clear message, and the page keeps its model', async () => {
    await open('test/nothing-here');
    await expect
      .poll(() => page.textContent('[data-testid=model-error]'), { timeout: 30_000 })
      .toMatch(/test\/nothing-here was not found at http:\/\/127\.0\.0\.1/);
    expect(await page.textContent('[data-testid=active-model]')).toMatch(/shipped digits model/);
  });

  it('a repo that is not a UNet2DModel is refused by name', async () => {
    await open('test/not-a-unet');
    await expect
      .poll(() => page.textContent('[data-testid=model-error]'), { timeout: 30_000 })
      .toMatch(/"UNet2DConditionModel", not a UNet2DModel/);
  });

  it('weights too large for a tab are refused before they are downloaded', async () => {
    await open('test/huge');
    await expect
      .poll(() => page.textContent('[data-testid=model-error]'), { timeout: 30_000 })
      .toMatch(/3\.0 GB: too large for this device's memory/);
  });

  it('a download cut short says so, and nothing is cached', async () => {
    await open('test/truncated');
    await expect
      .poll(() => page.textContent('[data-testid=model-error]'), { timeout: 30_000 })
      .toMatch(/download of diffusion_pytorch_model\.safetensors (broke off after|stopped at)/);
    expect(await page.textContent('[data-testid=active-model]')).toMatch(/shipped digits model/);
  });

  it('found: downloads with progress, runs in colour, and a second load asks the network nothing', async () => {
    requests.length = 0;
    await open('test/attn-rgb');
    await expect
      .poll(() => page.textContent('[data-testid=active-model]'), { timeout: 60_000 })
      .toMatch(/test\/attn-rgb from the Hugging Face Hub \(8×8 RGB, 0\.18M parameters\)/);
    expect(requests.some((r) => r.endsWith('/diffusion_pytorch_model.safetensors'))).toBe(true);
    // an unconditional colour model: no class, no guidance; a 5-step DPM-Solver++ run
    expect(await page.locator('[data-testid=label]').count()).toBe(0);
    await page.selectOption('[data-testid=sampler]', 'dpm-solver++');
    await page.fill('[data-testid=steps]', '5');
    await page.click('[data-testid=sample]');
    await expect.poll(() => page.textContent('[data-testid=step-count]'), { timeout: 120_000 }).toBe('step 5 / 5');
    await page.waitForSelector('[data-testid=sample]', { timeout: 60_000 });
    // hints for this model, not for digits: an unconditional model has no Draw menu
    expect(await page.textContent('[data-testid=next-hint]')).toMatch(/^Try next: another seed, DPM-Solver\+\+ \(a sample in 20 steps\)/);
    const rgb = await page.evaluate(() => {
      const c = document.querySelector<HTMLCanvasElement>('[data-testid="xt"]')!;
      return Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data);
    });
    // colour: somewhere red and green differ
    expect(rgb.some((v, i) => i % 4 === 0 && Math.abs(v - rgb[i + 1]) > 8)).toBe(true);
    // and the exported GIF is in colour too: its frames' palettes hold colours, not greys
    const [gif] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=export-gif]')]);
    const palettes = gifPalettes(readFileSync(await gif.path()));
    expect(palettes.length).toBeGreaterThan(1);
    expect(palettes.some((p) => p.some(([r, g, b]) => Math.max(r, g, b) - Math.min(r, g, b) > 24))).toBe(true);
    expect(await page.textContent('[data-testid=memo-unavailable]')).toMatch(/came from the Hugging Face Hub/);
    // the forward panel noises the last sample: at t = 0 (the clean image) its x0 is that sample, in colour
    await page.click('[data-testid=forward-last-sample]');
    const canvas = (selector: string) =>
      page.locator(selector).evaluate((c) => Array.from((c as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, 8, 8).data));
    await expect.poll(() => canvas('canvas[aria-label="clean image x0"]')).toEqual(rgb.slice(0, 8 * 8 * 4));
    // every sampler side by side, from the same noise, in colour
    await page.click('[data-testid=compare-run]');
    for (const sampler of ['ddpm', 'ddim', 'dpm-solver++'])
      await expect.poll(() => page.getAttribute(`[data-testid="compare-${sampler}"]`, 'data-done'), { timeout: 120_000 }).toBe('yes');
    await page.waitForSelector('[data-testid=sample]', { timeout: 60_000 });
    // the forward panel noises a picture at this model's size and colour; "denoise from here" runs from that x_t
    await page.setInputFiles('[data-testid=upload]', { name: 'red.png', mimeType: 'image/png', buffer: redPng() });
    await page.click('[data-testid=denoise-from-here]');
    await expect.poll(() => page.textContent('[data-testid=step-count]'), { timeout: 120_000 }).toMatch(/^step (\d+) \/ \1$/);
    await page.waitForSelector('[data-testid=sample]', { timeout: 60_000 });
    // draw at the model's 8×8: a stroke becomes the colour model's x0 (white: every channel)
    await page.click('[data-testid=draw-toggle]');
    const box = (await page.locator('[data-testid=draw-pad]').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.2, box.y + box.height * 0.5);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.8, box.y + box.height * 0.5, { steps: 6 });
    await page.mouse.up();
    const x0 = await page
      .locator('canvas[aria-label="clean image x0"]')
      .evaluate((c) => Array.from((c as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, 8, 8).data));
    expect(x0.filter((v, i) => i % 4 === 0 && v === 255 && x0[i + 1] === 255 && x0[i + 2] === 255).length).toBeGreaterThan(2);
    await page.click('[data-testid=draw-toggle]');
    // back to the shipped model, then the same repo again: from the cache, no request at all
    await page.click('[data-testid=use-shipped]');
    await expect.poll(() => page.textContent('[data-testid=active-model]'), { timeout: 30_000 }).toMatch(/shipped digits model/);
    requests.length = 0;
    await open('test/attn-rgb');
    await expect
      .poll(() => page.textContent('[data-testid=active-model]'), { timeout: 60_000 })
      .toMatch(/test\/attn-rgb from the Hugging Face Hub/);
    expect(requests).toEqual([]);
    expect(problems.filter((p) => !/404|Failed to load resource/.test(p))).toEqual([]);
  });

  it('a diffusers folder chosen from disk (a .bin with the old attention names): a class-conditional model without "no label" offers only its classes', async () => {
    await page.setInputFiles('[data-testid=import-folder]', join(FIXTURES, 'cifar-like-bin-old-names'));
    await expect
      .poll(() => page.textContent('[data-testid=active-model]'), { timeout: 60_000 })
      .toMatch(/an imported model \(8×8 grey, 0\.10M parameters\)/);
    const options = await page.locator('[data-testid=label] option').allTextContents();
    expect(options).toEqual(['0', '1', '2', '3', '4']);
    expect(await page.locator('[data-testid=guidance]').count()).toBe(0);
    await page.selectOption('[data-testid=sampler]', 'ddim');
    await page.fill('[data-testid=steps]', '3');
    await page.click('[data-testid=sample]');
    await expect.poll(() => page.textContent('[data-testid=step-count]'), { timeout: 120_000 }).toBe('step 3 / 3');
    await page.waitForSelector('[data-testid=sample]', { timeout: 60_000 });
    expect(await page.locator('[data-testid=sample-error]').count()).toBe(0);
  });

  it('with playground.json beside it, the same folder names its classes and guides with its "no label" row (issue 27)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'playground-json-'));
    const named = join(dir, 'cifar-like-named');
    cpSync(join(FIXTURES, 'cifar-like-bin-old-names'), named, { recursive: true });
    writeFileSync(join(named, 'playground.json'), JSON.stringify({ classes: ['cat', 'dog', 'owl', 'fox'], noLabelClass: 4 }));
    await page.setInputFiles('[data-testid=import-folder]', named);
    await expect
      .poll(() => page.locator('[data-testid=label] option').allTextContents(), { timeout: 60_000 })
      .toEqual(['cat', 'dog', 'owl', 'fox', 'anything (no label)']);
    expect(await page.locator('[data-testid=guidance]').count()).toBe(1);
    await page.selectOption('[data-testid=label]', { label: 'owl' });
    await page.click('[data-testid=sample]');
    await expect.poll(() => page.textContent('[data-testid=step-count]'), { timeout: 120_000 }).toBe('step 3 / 3');
    await page.waitForSelector('[data-testid=sample]', { timeout: 60_000 });
    expect(await page.locator('[data-testid=sample-error]').count()).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a link names the hub model: opening it loads the model, and going back to the shipped one takes it out of the address', async () => {
    await page.goto(`${inject('baseUrl')}/?backend=wasm&hub=${encodeURIComponent(hubUrl)}&model=test/attn-rgb`);
    await expect
      .poll(() => page.textContent('[data-testid=active-model]'), { timeout: 60_000 })
      .toMatch(/test\/attn-rgb from the Hugging Face Hub/);
    expect(new URL(page.url()).searchParams.get('model')).toBe('test/attn-rgb');
    await page.click('[data-testid=use-shipped]');
    await expect.poll(() => new URL(page.url()).searchParams.get('model'), { timeout: 30_000 }).toBeNull();
  });
});
