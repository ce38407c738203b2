import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { main as evalMain } from '../../scripts/eval';
import { decodePng, encodePng } from '../../scripts/png';
import { readNpy, writeNpy } from '../../scripts/npy';
import { readSafetensors } from '../../src/model/diffusers/safetensors';
import { main as exportDiffusersMain } from '../../scripts/export-diffusers';
import { main as predictMain } from '../../scripts/predict';
import { main as sampleMain } from '../../scripts/sample';
import { main as ttqMain } from '../../bench/ttq';

/** `npm run sample` and `npm run eval` (issue 5): what they write, and bad arguments refused with a message and exit code 2. */
const dir = mkdtempSync(join(tmpdir(), 'ddpm-cli-'));
const FIXTURE_MODEL = 'tests/fixtures/parity/mnist-like'; // a 10-class 28×28 U-Net (random weights)

/** Runs a CLI's main, returning its exit code and what it printed. */
async function run(main: (argv: string[]) => Promise<number>, argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...m: unknown[]) => void out.push(m.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...m: unknown[]) => void err.push(m.join(' ')));
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  const code = await main(argv);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

afterEach(() => vi.restoreAllMocks());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run sample', () => {
  it.each([
    [['--sampler', 'euler'], /--sampler must be one of ddpm, ddim, dpm-solver\+\+; got 'euler'/],
    [['--steps', '0'], /--steps must be an integer in \[1, 1000\]/],
    [['--count'], /option '--count' needs a value/],
    [['--colour', 'red'], /unknown option '--colour'/],
    [['--count', '-3'], /--count must be an integer/],
    [['--model', FIXTURE_MODEL, '--label', '12'], /--label must be 0-9, all or none; got '12'/],
  ])('refuses %j with a message and exit code 2', async (argv, message) => {
    const { code, err } = await run(sampleMain, [...argv, '--backend', 'cpu', '--out', join(dir, 'never')]);
    expect(code).toBe(2);
    expect(err).toMatch(message);
    expect(err).toMatch(/^usage: npm run sample/m);
  });

  it('writes <label>_<index>.png, 8-bit grey at the model size, N per label with --label all', async () => {
    const out = join(dir, 'samples');
    const { code, out: printed } = await run(sampleMain, [
      '--model',
      FIXTURE_MODEL,
      '--label',
      'all',
      '--count',
      '2',
      '--sampler',
      'ddim',
      '--steps',
      '2',
      '--backend',
      'cpu',
      '--out',
      out,
    ]);
    expect(code).toBe(0);
    expect(printed).toMatch(/^wrote 20 samples to .* in [\d.]+ s \(ddim 2 steps, η 0, guidance 1.5, seed 0\)$/); // the page's default guidance
    const files = readdirSync(out).sort();
    expect(files).toEqual(
      Array.from({ length: 10 }, (_, l) => [`${l}_0.png`, `${l}_1.png`])
        .flat()
        .sort(),
    );
    const png = decodePng(readFileSync(join(out, '3_1.png')));
    expect([png.width, png.height, png.channels]).toEqual([28, 28, 1]);
    expect(new Set(png.pixels).size).toBeGreaterThan(10); // a picture, not a constant
  });
});

describe('npm run sample / eval with a text model', () => {
  const TEXT_MODEL = 'tests/fixtures/parity/text'; // 16×16, vocabulary 3, 7, a, in, left, small, the, top (random weights)

  it('--prompt writes <words>_<index>.png, warns of unknown words, and refuses --label; --prompt on a class model is refused', async () => {
    const out = join(dir, 'prompted');
    const common = ['--backend', 'cpu', '--sampler', 'ddim', '--steps', '2', '--out', out];
    const ok = await run(sampleMain, [
      '--model',
      TEXT_MODEL,
      '--prompt',
      'a small 3 in the top left',
      '--negative',
      '7',
      '--count',
      '2',
      ...common,
    ]);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/prompt "a small 3 in the top left", negative "7"\)$/);
    expect(readdirSync(out).sort()).toEqual(['a-small-3-in-the-top-left_0.png', 'a-small-3-in-the-top-left_1.png']);
    const png = decodePng(readFileSync(join(out, 'a-small-3-in-the-top-left_0.png')));
    expect([png.width, png.height, png.channels]).toEqual([16, 16, 1]);
    const warned: string[] = [];
    vi.restoreAllMocks();
    vi.spyOn(console, 'log').mockImplementation(() => {});
    vi.spyOn(process.stderr, 'write').mockImplementation((m: string | Uint8Array) => (warned.push(String(m)), true));
    expect(await sampleMain(['--model', TEXT_MODEL, '--prompt', 'a cat', ...common])).toBe(0);
    expect(warned.join('')).toMatch(/"a cat": the model doesn't know 'cat'/);
    vi.restoreAllMocks();
    const label = await run(sampleMain, ['--model', TEXT_MODEL, '--label', '3', ...common]);
    expect(label.code).toBe(2);
    expect(label.err).toMatch(/is a text model: give --prompt, not --label/);
    const notText = await run(sampleMain, ['--model', FIXTURE_MODEL, '--prompt', '3', ...common]);
    expect(notText.code).toBe(2);
    expect(notText.err).toMatch(/is not a text model/);
  });

  it('eval judges prompt adherence: digit, size, place and all three, next to the data set’s own reading', async () => {
    const grids = join(dir, 'prompt-grids');
    const { code, out } = await run(evalMain, [
      '--model',
      TEXT_MODEL,
      '--per-prompt',
      '1',
      '--settings',
      'ddim2',
      '--backend',
      'cpu',
      '--grids',
      grids,
    ]);
    expect(code).toBe(0);
    const report = JSON.parse(out) as {
      prompts: string[];
      dataCeiling: { samples: number; all: number };
      settings: {
        samples: number;
        digit: number;
        size: number;
        place: number;
        all: number;
        allByLayout: Record<string, number>;
        grid: string;
      }[];
    };
    expect(report.prompts).toHaveLength(60);
    expect(report.prompts).toContain('a small 4 in the top right');
    expect(report.prompts).toContain('a large 7');
    expect(report.dataCeiling.samples).toBe(60);
    const [s] = report.settings;
    expect(s.samples).toBe(60);
    for (const k of ['digit', 'size', 'place', 'all'] as const) expect(s[k]).toBeGreaterThanOrEqual(0);
    expect(s.all).toBeLessThanOrEqual(Math.min(s.digit, s.size, s.place));
    expect(Object.keys(s.allByLayout)).toEqual([
      'small top left',
      'small top right',
      'small bottom left',
      'small bottom right',
      'small centre',
      'large',
    ]);
    const png = decodePng(readFileSync(s.grid));
    expect([png.width, png.height]).toEqual([16, 60 * 18 - 2]); // a row per prompt
  });
});

describe('npm run eval', () => {
  it('--samples judges pictures made elsewhere: label accuracy, per label, Fréchet distance against the floor', async () => {
    const samples = join(dir, 'judged');
    const grids = join(dir, 'grids');
    expect(
      (
        await run(sampleMain, [
          '--model',
          FIXTURE_MODEL,
          '--count',
          '3',
          '--sampler',
          'ddim',
          '--steps',
          '2',
          '--backend',
          'cpu',
          '--out',
          samples,
        ])
      ).code,
    ).toBe(0);
    rmSync(join(samples, '7_2.png')); // labels need not have equal counts
    const { code, out } = await run(evalMain, ['--samples', samples, '--grids', grids]);
    expect(code).toBe(0);
    const report = JSON.parse(out) as {
      samples: string;
      floor: { frechetDistance: number };
      settings: {
        name: string;
        samples: number;
        labelAccuracy: number;
        perLabelAccuracy: (number | null)[];
        frechetDistance: number;
        fdOverFloor: number;
        grid: string;
      }[];
    };
    expect(report.samples).toBe(samples);
    const [s] = report.settings;
    expect(s.name).toBe('judged');
    expect(s.samples).toBe(29);
    expect(s.perLabelAccuracy).toHaveLength(10);
    const counts = [3, 3, 3, 3, 3, 3, 3, 2, 3, 3];
    const correct = s.perLabelAccuracy.map((acc, l) => acc! * counts[l]);
    for (const k of correct) expect(Math.abs(k - Math.round(k))).toBeLessThan(1e-9); // whole samples per label
    expect(correct.reduce((x, y) => x + y) / 29).toBeCloseTo(s.labelAccuracy, 9);
    // random weights draw no digits: far from the real digits, and far above the real-vs-real floor
    expect(s.fdOverFloor).toBeGreaterThan(3);
    expect(s.frechetDistance).toBeCloseTo(s.fdOverFloor * report.floor.frechetDistance, 0);
    const grid = decodePng(readFileSync(s.grid));
    expect(s.grid).toBe(join(grids, 'samples-judged.png'));
    expect([grid.width, grid.height]).toEqual([10 * 30 - 2, 10 * 30 - 2]);
  });

  it('refuses bad --samples directories and generation options next to --samples', async () => {
    const bad = join(dir, 'bad');
    await run(sampleMain, [
      '--model',
      FIXTURE_MODEL,
      '--label',
      '1',
      '--sampler',
      'ddim',
      '--steps',
      '1',
      '--backend',
      'cpu',
      '--out',
      bad,
    ]);
    writeFileSync(join(bad, 'seven.png'), encodePng(new Uint8Array(28 * 28), 28, 28, 1));
    let r = await run(evalMain, ['--samples', bad]);
    expect([r.code, r.err]).toEqual([2, expect.stringMatching(/not named <label 0-9>_<index>\.png: seven\.png/)]);
    rmSync(join(bad, 'seven.png'));
    writeFileSync(join(bad, '2_0.png'), encodePng(new Uint8Array(32 * 32), 32, 32, 1));
    r = await run(evalMain, ['--samples', bad]);
    expect([r.code, r.err]).toEqual([2, expect.stringMatching(/2_0\.png is 32×32 with 1 channels; the eval reads 28×28 grey digits/)]);
    writeFileSync(join(bad, '2_0.png'), 'not a png');
    r = await run(evalMain, ['--samples', bad]);
    expect([r.code, r.err]).toEqual([2, expect.stringMatching(/2_0\.png: not a PNG file/)]);
    r = await run(evalMain, ['--samples', join(dir, 'nowhere')]);
    expect([r.code, r.err]).toEqual([2, expect.stringMatching(/cannot read the directory '.*nowhere' \(ENOENT\)/)]);
    r = await run(evalMain, ['--samples', join(dir, 'samples'), '--settings', 'ddim50']);
    expect([r.code, r.err]).toEqual([2, expect.stringMatching(/--samples scores pictures already made; --settings/)]);
    r = await run(evalMain, ['--settings', 'euler20']);
    expect([r.code, r.err]).toEqual([2, expect.stringMatching(/--settings entries are 'ddpm', 'ddim<steps>\[-eta<η>\]' or 'dpm<steps>'/)]);
  });
});

describe('npm run predict', () => {
  /** NCHW float32 / int64 .npy files of a diffusers fixture's inputs (io.json holds them NHWC). */
  function inputs(name: string) {
    const io = JSON.parse(readFileSync(`tests/fixtures/diffusers/${name}/io.json`, 'utf8')) as {
      x: number[];
      shape: [number, number, number, number];
      t: number[];
      labels: number[] | null;
      y: number[];
    };
    const [b, s, , c] = io.shape;
    const nchw = (nhwc: number[]) => {
      const out = new Float32Array(nhwc.length);
      for (let n = 0; n < b; n++)
        for (let y = 0; y < s; y++)
          for (let x = 0; x < s; x++) for (let k = 0; k < c; k++) out[((n * c + k) * s + y) * s + x] = nhwc[((n * s + y) * s + x) * c + k];
      return out;
    };
    const int64 = (v: number[]) => {
      const npy = writeNpy(new Float32Array(v), [v.length]);
      // the same header, rewritten as int64 (PyTorch's default integer type)
      const header = new TextDecoder().decode(npy.subarray(10, npy.length - 4 * v.length)).replace("'<f4'", "'<i8'");
      const out = new Uint8Array(10 + header.length + 8 * v.length);
      out.set(npy.subarray(0, 10));
      new DataView(out.buffer).setUint16(8, header.length, true);
      out.set(new TextEncoder().encode(header), 10);
      v.forEach((t, i) => new DataView(out.buffer).setBigInt64(10 + header.length + 8 * i, BigInt(t), true));
      return out;
    };
    const x = join(dir, `${name}-x.npy`);
    const t = join(dir, `${name}-t.npy`);
    writeFileSync(x, writeNpy(nchw(io.x), [b, c, s, s]));
    writeFileSync(t, int64(io.t));
    const label = io.labels ? join(dir, `${name}-l.npy`) : null;
    if (label && io.labels) writeFileSync(label, int64(io.labels));
    return { x, t, label, expected: nchw(io.y) };
  }

  it.each(['attn-f32', 'cifar-like-bin-old-names'])(
    'writes the network output of a diffusers folder (%s) for NCHW x and int64 t, equal to PyTorch’s',
    async (name) => {
      const { x, t, label, expected } = inputs(name);
      const out = join(dir, `${name}-eps.npy`);
      const args = ['--model', `tests/fixtures/diffusers/${name}`, '--x', x, '--t', t, '--out', out, '--backend', 'cpu'];
      const { code } = await run(predictMain, [...args, ...(label ? ['--label', label] : [])]);
      expect(code).toBe(0);
      const eps = readNpy(new Uint8Array(readFileSync(out)));
      expect(eps.shape).toEqual([2, ...(name.startsWith('attn') ? [3] : [1]), 8, 8]);
      expect(Math.max(...Array.from(eps.values, (v, i) => Math.abs(v - expected[i])))).toBeLessThan(1e-4);
    },
  );

  it('works for the playground format too, and refuses inputs of the wrong shape with exit code 2', async () => {
    const x = join(dir, 'mnist-x.npy');
    const t = join(dir, 'mnist-t.npy');
    writeFileSync(x, writeNpy(new Float32Array(2 * 28 * 28), [2, 1, 28, 28]));
    writeFileSync(t, writeNpy(new Float32Array([1, 2]), [2]));
    const base = ['--model', FIXTURE_MODEL, '--x', x, '--out', join(dir, 'never.npy'), '--backend', 'cpu'];
    expect((await run(predictMain, [...base, '--t', t])).err).toMatch(/--t must hold integers/);
    writeFileSync(x, writeNpy(new Float32Array(2 * 28 * 28), [2, 28, 28, 1]));
    const wrong = await run(predictMain, [...base, '--t', t]);
    expect(wrong.code).toBe(2);
    expect(wrong.err).toMatch(/--x is \[2, 28, 28, 1\]; this model takes \[B, 1, 28, 28\] \(NCHW\)/);
  });
  it('npm run export-diffusers turns a pickled .bin with the older attention names into a safetensors folder with the current ones, which runs as PyTorch does', async () => {
    const out = join(dir, 'exported');
    expect((await run(exportDiffusersMain, ['--model', 'tests/fixtures/diffusers/cifar-like-bin-old-names', '--out', out])).code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['config.json', 'diffusion_pytorch_model.safetensors', 'scheduler_config.json']);
    const names = [...readSafetensors(new Uint8Array(readFileSync(join(out, 'diffusion_pytorch_model.safetensors')))).keys()];
    expect(names.some((n) => n.endsWith('.to_q.weight'))).toBe(true);
    expect(names.some((n) => /\.(query|key|value|proj_attn)\./.test(n))).toBe(false);
    // the exported folder gives the original's output (the PyTorch twin's), through npm run predict
    const { x, t, label, expected } = inputs('cifar-like-bin-old-names');
    const eps = join(dir, 'exported-eps.npy');
    const args = ['--model', out, '--x', x, '--t', t, '--out', eps, '--backend', 'cpu', ...(label ? ['--label', label] : [])];
    expect((await run(predictMain, args)).code).toBe(0);
    const got = readNpy(new Uint8Array(readFileSync(eps))).values;
    expect(Math.max(...Array.from(got, (v, i) => Math.abs(v - expected[i])))).toBeLessThan(1e-4);
  });

  it('npm run export-diffusers refuses the playground’s own U-Net, which has no diffusers form', async () => {
    const { code, err } = await run(exportDiffusersMain, ['--model', 'public/models/mnist', '--out', join(dir, 'no')]);
    expect(code).toBe(2);
    expect(err).toMatch(/not a UNet2DModel: it has no diffusers form/);
  });
});

describe('npm run bench:ttq', () => {
  it.each([
    [['--size', '24', '--set', 'emoji'], /--size 24: a new colour model trains at 32 or 16 px/],
    [['--size', '16', '--set', 'emoji', '--init', 'shipped'], /a fine-tune at its prior's size/],
    [['--size', '16', '--set', 'digit'], /--size 16: a new colour model/],
    [['--minutes', '5,2'], /--minutes must be increasing positive numbers/],
    [['--guidance', '1.5,30', '--set', 'emoji'], /--guidance must be scales between 0 and 20/],
  ])('refuses %j with a message and exit code 2, before it loads anything', async (argv, message) => {
    const { code, err } = await run(ttqMain, argv);
    expect(code).toBe(2);
    expect(err).toMatch(message);
    expect(err).toMatch(/^usage: npm run bench:ttq/m);
  });
});

describe('--help', () => {
  it.each([
    ['sample', sampleMain, /^usage: npm run sample[^]*\ndefaults: .*--label all --count 1 .*--out samples/],
    ['eval', evalMain, /^usage: npm run eval[^]*\ndefaults: .*--grids samples\/eval/],
    ['predict', predictMain, /^usage: npm run predict[^]*\ndefaults: .*--backend wasm/],
  ] as const)('npm run %s -- --help prints the usage with the defaults and exits 0', async (_, main, usage) => {
    const { code, out, err } = await run(main, ['--help']);
    expect(code).toBe(0);
    expect(out).toMatch(usage);
    expect(err).toBe('');
  });
});
