import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodePng } from '../../scripts/png';

/**
 * `--backend webgpu` in the Node CLIs (issue 12), run as `npm run …` runs them (scripts/run.mjs, a
 * fresh process: Dawn reads VK_ICD_FILENAMES once). Without a GPU, Chromium's SwiftShader Vulkan
 * driver is the adapter: software, so one tiny run.
 */
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const dir = mkdtempSync(join(tmpdir(), 'ddpm-webgpu-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(entry: string, args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['scripts/run.mjs', entry, ...args],
      { env: { ...process.env, ...env }, timeout: 100_000 },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
    );
  });
}

describe('Node CLIs on WebGPU (Dawn)', () => {
  it('npm run sample -- --backend webgpu draws, from the same seed, the picture wasm draws', { timeout: 150_000 }, async () => {
    const args = ['--model', 'public/models/mnist', '--label', '3', '--count', '1', '--sampler', 'ddim', '--steps', '2', '--seed', '7'];
    const gpu = await cli('scripts/sample.ts', [...args, '--backend', 'webgpu', '--out', join(dir, 'webgpu')], {
      VK_ICD_FILENAMES: SWIFTSHADER_ICD,
    });
    expect(gpu.code, gpu.stderr).toBe(0);
    expect(gpu.stderr).toMatch(/^webgpu on .*swiftshader.*\(software fallback\)$/im);
    const wasm = await cli('scripts/sample.ts', [...args, '--backend', 'wasm', '--out', join(dir, 'wasm')], {});
    expect(wasm.code, wasm.stderr).toBe(0);
    const [a, b] = ['webgpu', 'wasm'].map((d) => decodePng(readFileSync(join(dir, d, '3_0.png'))));
    expect(new Set(a.pixels).size).toBeGreaterThan(10); // a picture, not a constant
    let worst = 0;
    for (let i = 0; i < a.pixels.length; i++) worst = Math.max(worst, Math.abs(a.pixels[i] - b.pixels[i]));
    expect(worst).toBeLessThanOrEqual(2); // float32 on both; rounding to 8 bits may split a value
  });

  it.each([
    ['npm run sample', 'scripts/sample.ts', ['--backend', 'webgpu', '--count', '1', '--label', '3', '--out', join(dir, 'never')], {}],
    ['npm run eval', 'scripts/eval.ts', ['--backend', 'webgpu', '--per-label', '1', '--grids', join(dir, 'never')], {}],
    ['npm run bench', 'bench/node.ts', [], { BENCH_BACKENDS: 'webgpu' }],
  ])('%s without a WebGPU adapter says why and exits with code 2', { timeout: 60_000 }, async (_, entry, args, env) => {
    const r = await cli(entry, args, { ...env, VK_ICD_FILENAMES: join(dir, 'no-such-icd.json') });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: no WebGPU adapter: .*VK_ICD_FILENAMES=\/usr\/lib\/chromium\/vk_swiftshader_icd\.json$/m);
    expect(r.stderr).not.toMatch(/\bat .*\.(?:ts|m?js):\d+/); // no JavaScript stack trace
  });
});
