import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerWasmKernels } from '../../src/model/wasm-kernels';

// Registered before the wasm backend is initialised (the import above only registers it, lazily).
registerWasmKernels();

type Backend = 'cpu' | 'wasm';
type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
const EXPLICIT: Pad = [
  [0, 0],
  [1, 1],
  [1, 1],
  [0, 0],
];

/** Seeded N(0, 1) values; generated in JS, so identical whichever backend is active. */
const randn = (shape: number[], seed: number, scale = 1): Float32Array =>
  tf.tidy(() => tf.randomNormal(shape, 0, scale, 'float32', seed).dataSync() as Float32Array);

/** Runs `fn` on `backend` and downloads its outputs. */
async function on(backend: Backend, fn: () => tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const outs = tf.tidy(fn);
  const vals = await Promise.all(outs.map((t) => t.data() as Promise<Float32Array>));
  tf.dispose(outs);
  return vals;
}

const errors: Record<string, number> = {};
const notes: string[] = [];

/** Max |a − b| relative to max |b|; passes at 1e-4 relative, or 1e-5 absolute for tiny tensors. */
function expectMatches(label: string, actual: Float32Array, expected: Float32Array): void {
  expect(actual.length).toBe(expected.length);
  let err = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    err = Math.max(err, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  const rel = err / Math.max(scale, 1e-30);
  errors[label] = rel;
  expect(Number.isFinite(err)).toBe(true);
  expect(scale).toBeGreaterThan(0); // a comparison of zero gradients would prove nothing
  if (err > 1e-5) expect(rel, `${label}: max err ${err} vs max |ref| ${scale}`).toBeLessThanOrEqual(1e-4);
}

beforeAll(async () => {
  expect(await tf.setBackend('wasm')).toBe(true); // the .wasm binary loads from node_modules in Node
  await tf.ready();
  expect(tf.getBackend()).toBe('wasm');
});

afterAll(async () => {
  await tf.setBackend('cpu');
  const lines = Object.entries(errors).map(([k, v]) => `  ${k}: ${v.toExponential(2)}`);
  console.log(['wasm vs cpu, max error relative to max |cpu|:', ...lines, ...notes].join('\n'));
});

describe('Conv2DBackpropFilter and Conv2DBackpropInput on wasm', () => {
  const cases: [string, number[], number[], 1 | 2, Pad][] = [
    // name, x [B, H, W, in], filter [kh, kw, in, out], stride, padding
    ['3×3 same s1', [2, 8, 8, 3], [3, 3, 3, 5], 1, 'same'],
    ['1×1', [2, 6, 6, 4], [1, 1, 4, 6], 1, 'same'],
    ['3×3 same s2', [2, 8, 8, 3], [3, 3, 3, 4], 2, 'same'],
    ['3×3 explicit s2', [2, 8, 8, 4], [3, 3, 4, 3], 2, EXPLICIT],
    ['3×3 valid s1', [2, 7, 7, 3], [3, 3, 3, 4], 1, 'valid'],
    ['3×3 valid s2 odd', [1, 7, 7, 2], [3, 3, 2, 3], 2, 'valid'],
    ['3×3 same s2 odd (7×7)', [3, 7, 7, 3], [3, 3, 3, 2], 2, 'same'],
    ['3×3 explicit s2 odd (7×7)', [2, 7, 7, 2], [3, 3, 2, 5], 2, EXPLICIT],
    ['3×3 same s1 odd (7×7), batch 4', [4, 7, 7, 6], [3, 3, 6, 8], 1, 'same'],
    ['3×3 valid s2, a trailing row unused', [2, 8, 8, 3], [3, 3, 3, 2], 2, 'valid'],
    [
      '3×3 explicit pad 3 (> K − 1)',
      [1, 6, 6, 2],
      [3, 3, 2, 3],
      1,
      [
        [0, 0],
        [3, 3],
        [3, 3],
        [0, 0],
      ],
    ],
    [
      '3×3 explicit asymmetric',
      [1, 6, 5, 2],
      [3, 3, 2, 3],
      2,
      [
        [0, 0],
        [0, 2],
        [2, 1],
        [0, 0],
      ],
    ],
    // every resolution the presets and the shipped model train at: 3×3 'same', the 1×1 skip, the stride-2 downsample conv
    ...[7, 8, 14, 16, 28, 32, 64].flatMap((px): [string, number[], number[], 1 | 2, Pad][] => [
      [`${px}² 3×3 same s1`, [2, px, px, 4], [3, 3, 4, 6], 1, 'same'],
      [`${px}² 1×1 skip`, [2, px, px, 6], [1, 1, 6, 4], 1, 'same'],
      [`${px}² 3×3 s2 pad 1 (downsample)`, [2, px, px, 4], [3, 3, 4, 4], 2, EXPLICIT],
    ]),
  ];
  it.each(cases)('%s: dW and dx equal the cpu backend', async (name, xShape, wShape, stride, pad) => {
    const [b, h, w] = xShape;
    const outSize = (n: number, axis: 1 | 2) =>
      pad === 'valid'
        ? Math.floor((n - wShape[0]) / stride) + 1
        : pad === 'same'
          ? Math.ceil(n / stride)
          : Math.floor((n + pad[axis][0] + pad[axis][1] - wShape[0]) / stride) + 1;
    const xv = randn(xShape, 1);
    const wv = randn(wShape, 2);
    const rv = randn([b, outSize(h, 1), outSize(w, 2), wShape[3]], 3); // sum(conv · r) makes dy = r
    const grads = () => {
      const x = tf.tensor4d(xv, xShape as [number, number, number, number]);
      const f = tf.tensor4d(wv, wShape as [number, number, number, number]);
      const r = tf.tensor(rv, [b, outSize(h, 1), outSize(w, 2), wShape[3]]);
      const y = tf.conv2d(x, f, stride, pad);
      return [
        y,
        ...tf.grads((x: tf.Tensor, f: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, stride, pad), r)))([x, f]),
      ];
    };
    const [yc, dxc, dwc] = await on('cpu', grads);
    const [yw, dxw, dww] = await on('wasm', grads);
    expectMatches(`conv ${name}: y`, yw, yc);
    expectMatches(`conv ${name}: dx`, dxw, dxc);
    expectMatches(`conv ${name}: dW`, dww, dwc);
  });

  it('rejects NCHW with a clear error', async () => {
    await tf.setBackend('wasm');
    const x = tf.zeros([1, 2, 4, 4]);
    const dy = tf.zeros([1, 3, 4, 4]);
    const filter = tf.zeros([3, 3, 2, 3]);
    const attrs = { strides: 1, pad: 'same', dataFormat: 'NCHW', filterShape: [3, 3, 2, 3] };
    expect(() => tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, attrs)).toThrow(/NHWC/);
    expect(() => tf.engine().runKernel(tf.Conv2DBackpropInput, { dy, filter }, { ...attrs, inputShape: [1, 2, 4, 4] })).toThrow(/NHWC/);
    tf.dispose([x, dy, filter]);
  });

  it("both gradients run as forward convolutions (XNNPACK), not the backend's naive loop", async () => {
    await tf.setBackend('wasm');
    const x = tf.randomNormal<tf.Rank.R4>([2, 8, 8, 4], 0, 1, 'float32', 1);
    const w = tf.randomNormal<tf.Rank.R4>([3, 3, 4, 5], 0, 1, 'float32', 2);
    const profile = await tf.profile(() => {
      const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same')))([x, w]);
      return [dx, dw];
    });
    tf.dispose(profile.result);
    const names = profile.kernels.map((k) => k.name);
    expect(names).toContain('Conv2DBackpropInput');
    expect(names).toContain('Conv2DBackpropFilter');
    // kernels called inside ours bypass the engine, so only the forward conv shows as Conv2D
    expect(names.filter((n) => n === 'Conv2D')).toHaveLength(1);
    tf.dispose([x, w]);
  });
});

describe('Slice and SplitV on wasm (views of the heap instead of a copy of the input)', () => {
  it.each([
    ['1-D piece', [1000], [123], [456]],
    ['whole rows of a matrix', [6, 5], [2, 0], [3, 5]],
    ["a column block (not contiguous: the backend's own)", [6, 5], [1, 2], [4, 2]],
    ['4-D, contiguous', [2, 3, 4, 5], [1, 1, 0, 0], [1, 2, 4, 5]],
    ['4-D, channels (not contiguous)', [2, 3, 4, 5], [0, 0, 0, 1], [2, 3, 4, 3]],
    ['size −1 to the end', [7, 3], [4, 0], [-1, -1]],
  ])('slice %s equals the cpu backend', async (_name, shape, begin, size) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const xv = randn([n], 30);
    const run = () => [tf.slice(tf.tensor(xv, shape), begin, size)];
    const [c] = await on('cpu', run);
    const [w] = await on('wasm', run);
    expect(Array.from(w)).toEqual(Array.from(c));
  });

  it('split into 105 pieces of a flat buffer, and along channels, equals the cpu backend (float32 and int32)', async () => {
    const sizes = Array.from({ length: 105 }, (_, i) => 1 + ((i * 37) % 50));
    const total = sizes.reduce((a, b) => a + b, 0);
    const flat = randn([total], 31);
    const image = randn([2, 4, 4, 6], 32);
    const run = () => [
      ...tf.split(tf.tensor1d(flat), sizes),
      ...tf.split(tf.tensor(image, [2, 4, 4, 6]), [2, 4], 3),
      ...tf.split(
        tf.tensor1d(
          Int32Array.from({ length: 12 }, (_, i) => i * 7),
          'int32',
        ),
        3,
      ),
    ];
    const cpu = await on('cpu', run);
    const wasm = await on('wasm', run);
    expect(wasm.length).toBe(105 + 2 + 3);
    wasm.forEach((w, i) => expect(Array.from(w), `piece ${i}`).toEqual(Array.from(cpu[i])));
  });
});

describe('UnsortedSegmentSum on wasm', () => {
  it('sums rows per segment (duplicates summed, out-of-range ids dropped) like cpu', async () => {
    const xv = randn([6, 3, 2], 4);
    const ids = Int32Array.from([0, 2, 2, -1, 4, 0]);
    const sum = () => [tf.unsortedSegmentSum(tf.tensor(xv, [6, 3, 2]), tf.tensor1d(ids, 'int32'), 5)];
    const [c] = await on('cpu', sum);
    const [w] = await on('wasm', sum);
    expectMatches('unsortedSegmentSum', w, c);
  });
});

// A miniature of the U-Net's training graph: conv 'same', GroupNorm, SiLU, a dense layer on a gathered
// embedding, stride-2 conv with explicit padding, attention (batched matMul + softmax), nearest
// upsampling by broadcasting, concat skip, clipByValue, 2×2 average pooling by reshape/mean, 1×1 conv.
const B = 2;
const SHAPES: Record<string, number[]> = {
  'conv1.w': [3, 3, 3, 8],
  'conv1.b': [8],
  'gn.g': [8],
  'gn.b': [8],
  emb: [6, 8],
  'dense.w': [8, 8],
  'dense.b': [8],
  'down.w': [3, 3, 8, 8],
  'qkv.w': [8, 24],
  'up.w': [3, 3, 16, 8],
  'out.w': [1, 1, 8, 3],
};
const PARAMS = Object.fromEntries(Object.entries(SHAPES).map(([k, s], i) => [k, randn(s, 10 + i, 0.3)]));
const X = randn([B, 8, 8, 3], 5);
const TARGET = randn([B, 4, 4, 3], 6);
const T = Int32Array.from([3, 3]); // a repeated index: its embedding row's gradient is a sum

function smallNet(p: Record<string, tf.Tensor>, x: tf.Tensor4D, t: tf.Tensor1D): tf.Scalar {
  const conv = (v: tf.Tensor, w: string, stride: 1 | 2 = 1, pad: Pad = 'same') =>
    tf.conv2d(v as tf.Tensor4D, p[w] as tf.Tensor4D, stride, pad);
  const silu = (v: tf.Tensor) => tf.mul(v, tf.sigmoid(v));
  let h = tf.add(conv(x, 'conv1.w'), p['conv1.b']); // [B, 8, 8, 8]
  const grouped = tf.reshape(h, [B, 8, 8, 2, 4]);
  const { mean, variance } = tf.moments(grouped, [1, 2, 4], true);
  h = tf.reshape(tf.mul(tf.sub(grouped, mean), tf.rsqrt(tf.add(variance, 1e-5))), [B, 8, 8, 8]);
  h = silu(tf.add(tf.mul(h, p['gn.g']), p['gn.b']));
  const e = tf.add(tf.matMul(tf.gather(p.emb, t) as tf.Tensor2D, p['dense.w'] as tf.Tensor2D), p['dense.b']);
  h = tf.add(h, tf.reshape(e, [B, 1, 1, 8]));
  let d = conv(h, 'down.w', 2, EXPLICIT); // [B, 4, 4, 8]
  const [q, k, v] = tf.split(tf.reshape(tf.matMul(tf.reshape(d, [B * 16, 8]), p['qkv.w'] as tf.Tensor2D), [B, 16, 24]), 3, 2);
  const att = tf.softmax(tf.div(tf.matMul(q, k, false, true), Math.sqrt(8)));
  d = tf.add(d, tf.reshape(tf.matMul(att, v), [B, 4, 4, 8]));
  const up = tf.reshape(tf.mul(tf.reshape(d, [B, 4, 1, 4, 1, 8]), tf.ones([1, 1, 2, 1, 2, 1])), [B, 8, 8, 8]);
  let y = tf.clipByValue(conv(tf.concat([up, h], 3), 'up.w'), -2, 2);
  y = tf.mean(tf.reshape(y, [B, 4, 2, 4, 2, 8]), [2, 4]); // [B, 4, 4, 8]
  const out = conv(y, 'out.w', 1, 'valid');
  return tf.mean(tf.square(tf.sub(out, tf.tensor(TARGET, [B, 4, 4, 3]))));
}

/** A variable on the active backend (the initial tensor is released; the variable keeps its data). */
function variable(values: Float32Array, shape: number[]): tf.Variable {
  const init = tf.tensor(values, shape);
  const v = tf.variable(init);
  init.dispose();
  return v;
}

/** Fresh variables for the small net on the active backend. */
const makeVars = (): Record<string, tf.Variable> => Object.fromEntries(Object.entries(PARAMS).map(([k, v]) => [k, variable(v, SHAPES[k])]));

async function netGrads(backend: Backend): Promise<Record<string, Float32Array>> {
  await tf.setBackend(backend);
  const vars = makeVars();
  const x = tf.tensor4d(X, [B, 8, 8, 3]);
  const t = tf.tensor1d(T, 'int32');
  const { value, grads } = tf.variableGrads(() => smallNet(vars, x, t), Object.values(vars));
  const out: Record<string, Float32Array> = { loss: (await value.data()) as Float32Array };
  for (const [k, v] of Object.entries(vars)) out[k] = (await grads[v.name].data()) as Float32Array;
  tf.dispose([value, x, t, ...Object.values(grads), ...Object.values(vars)]);
  return out;
}

describe('training on wasm', () => {
  it('all variable gradients of a small conv net equal the cpu backend', async () => {
    const cpu = await netGrads('cpu');
    const wasm = await netGrads('wasm');
    for (const k of Object.keys(cpu)) expectMatches(`net ${k}`, wasm[k], cpu[k]);
  });

  it('Adam minimises a tiny conv net on wasm, tracking the cpu backend', async () => {
    const xv = randn([4, 8, 8, 2], 20);
    const wTrue = randn([3, 3, 2, 2], 21, 0.5);
    const init = [randn([3, 3, 2, 8], 22, 0.3), randn([3, 3, 8, 8], 23, 0.2), randn([3, 3, 8, 2], 24, 0.2)];
    const train = async (backend: Backend): Promise<number[]> => {
      await tf.setBackend(backend);
      const x = tf.tensor4d(xv, [4, 8, 8, 2]);
      const target = tf.conv2d(x, tf.tensor4d(wTrue, [3, 3, 2, 2]), 1, 'same');
      const [w1, w2, w3] = init.map((v, i) =>
        variable(
          v,
          [
            [3, 3, 2, 8],
            [3, 3, 8, 8],
            [3, 3, 8, 2],
          ][i],
        ),
      );
      const silu = (v: tf.Tensor4D) => tf.mul<tf.Tensor4D>(v, tf.sigmoid(v));
      const loss = () => {
        let h = silu(tf.conv2d(x, w1 as tf.Tensor4D, 1, 'same'));
        h = silu(tf.conv2d(h, w2 as tf.Tensor4D, 2, EXPLICIT));
        h = tf.reshape(tf.mul(tf.reshape(h, [4, 4, 1, 4, 1, 8]), tf.ones([1, 1, 2, 1, 2, 1])), [4, 8, 8, 8]);
        return tf.losses.meanSquaredError<tf.Tensor, tf.Scalar>(target, tf.conv2d(h, w3 as tf.Tensor4D, 1, 'same'));
      };
      const opt = tf.train.adam(1e-2);
      const losses: number[] = [];
      for (let i = 0; i < 20; i++) {
        const cost = opt.minimize(loss, true)!;
        losses.push((await cost.data())[0]);
        cost.dispose();
      }
      opt.dispose();
      tf.dispose([x, target, w1, w2, w3]);
      return losses;
    };
    const cpu = await train('cpu');
    const wasm = await train('wasm');
    expect(wasm[19]).toBeLessThan(0.5 * wasm[0]);
    for (let i = 0; i < 20; i++) expect(Math.abs(wasm[i] - cpu[i])).toBeLessThanOrEqual(1e-3 * cpu[i]);
    errors['Adam loss trajectory'] = Math.max(...wasm.map((l, i) => Math.abs(l - cpu[i]) / cpu[i]));
    notes.push(`Adam on wasm: loss ${wasm[0].toFixed(4)} → ${wasm[19].toFixed(4)} in 20 steps`);
  });

  it('leaks no tensors and no wasm buffers across repeated gradient computations', async () => {
    await tf.setBackend('wasm');
    const vars = makeVars();
    const x = tf.tensor4d(X, [B, 8, 8, 3]);
    const t = tf.tensor1d(T, 'int32');
    const opt = tf.train.adam(1e-3);
    const step = () => {
      const { value, grads } = tf.variableGrads(() => smallNet(vars, x, t), Object.values(vars));
      tf.dispose([value, ...Object.values(grads)]);
      opt.minimize(() => smallNet(vars, x, t)); // also covers Adam's update kernels and its slot variables
    };
    step(); // warm-up: Adam creates its moment variables on the first step
    const tensors = tf.memory().numTensors;
    const buffers = tf.backend().numDataIds(); // the backend's own count: also catches leaks inside kernels
    for (let i = 0; i < 5; i++) step();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.backend().numDataIds()).toBe(buffers);
    opt.dispose();
    tf.dispose([x, t, ...Object.values(vars)]);
  });
});

describe('registerWasmKernels', () => {
  it('is idempotent: repeated calls (before or after wasm initialised) keep the first registration, without warnings', async () => {
    await tf.setBackend('wasm');
    const before = tf.getKernel(tf.Conv2DBackpropFilter, 'wasm');
    const input = tf.getKernel(tf.Conv2DBackpropInput, 'wasm');
    const slice = tf.getKernel(tf.Slice, 'wasm');
    const segmentSum = tf.getKernel(tf.UnsortedSegmentSum, 'wasm');
    expect(before).toBeDefined();
    expect(input).toBeDefined();
    expect(segmentSum).toBeDefined();
    expect(slice).toBeDefined();
    const warn = vi.spyOn(console, 'warn');
    for (let i = 0; i < 3; i++) registerWasmKernels();
    expect(warn).not.toHaveBeenCalled();
    warn.mockRestore();
    expect(tf.getKernel(tf.Conv2DBackpropFilter, 'wasm')).toBe(before);
    expect(tf.getKernel(tf.UnsortedSegmentSum, 'wasm')).toBe(segmentSum);
    expect(tf.getKernel(tf.Conv2DBackpropInput, 'wasm')).toBe(input);
    expect(tf.getKernel(tf.Slice, 'wasm')).toBe(slice);
  });
});
