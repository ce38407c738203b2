import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { groupCount } from '../../src/model/config';
import { conv, groupNorm } from '../../src/model/layers';
import { registerWasmKernels } from '../../src/model/wasm-kernels';

registerWasmKernels();
afterAll(async () => {
  await tf.setBackend('cpu');
});

const randn = (shape: number[], seed: number, mean = 0) =>
  tf.tidy(() => tf.randomNormal(shape, mean, 1, 'float32', seed).dataSync() as Float32Array);

function maxRelative(a: Float32Array, b: Float32Array): number {
  let err = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    err = Math.max(err, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  expect(scale).toBeGreaterThan(0);
  return err / scale;
}

describe('groupNorm layer', () => {
  it('normalises each group to mean β, spread γ (PyTorch’s GroupNorm: biased variance, ε = 1e-5), with min(groups, C) groups', async () => {
    // 2 channels asked for 8 groups → 2 groups of one channel: each channel normalised on its own
    const x = tf.tensor4d([1, 10, 2, 20, 3, 30, 4, 40], [1, 2, 2, 2]);
    const w = new Map([
      ['n.weight', tf.tensor1d([2, 1])],
      ['n.bias', tf.tensor1d([0.5, 0])],
    ]);
    const y = Array.from(await groupNorm(w, { name: 'n', ch: 2, groups: groupCount(8, 2), eps: 1e-5 }, x).data());
    const r = 1 / Math.sqrt(1.25 + 1e-5); // channel 0: values 1…4, mean 2.5, variance 1.25
    const r2 = 1 / Math.sqrt(125 + 1e-5); // channel 1: 10…40, mean 25, variance 125
    const want = [
      2 * (1 - 2.5) * r + 0.5,
      (10 - 25) * r2,
      2 * (2 - 2.5) * r + 0.5,
      (20 - 25) * r2,
      2 * (3 - 2.5) * r + 0.5,
      (30 - 25) * r2,
      2 * (4 - 2.5) * r + 0.5,
      (40 - 25) * r2,
    ];
    y.forEach((v, i) => expect(v).toBeCloseTo(want[i], 5));
    tf.dispose([x, ...w.values()]);
  });
});

describe.each(['cpu', 'wasm'] as const)('conv with its bias fused (%s)', (backend) => {
  it.each([1, 2] as const)('stride %i: value and gradients equal conv2d + add', async (stride) => {
    await tf.setBackend(backend);
    const [xv, fv, bv] = [randn([2, 8, 8, 3], 5), randn([3, 3, 3, 4], 6), randn([4], 7)];
    const out = stride === 1 ? 8 : 4;
    const rv = randn([2, out, out, 4], 8);
    const run = (layer: (x: tf.Tensor, f: tf.Tensor, b: tf.Tensor) => tf.Tensor) =>
      tf.tidy(() => {
        const [x, f, b, r] = [tf.tensor(xv, [2, 8, 8, 3]), tf.tensor(fv, [3, 3, 3, 4]), tf.tensor(bv), tf.tensor(rv, [2, out, out, 4])];
        return [layer(x, f, b), ...tf.grads((x: tf.Tensor, f: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(layer(x, f, b), r)))([x, f, b])];
      });
    const pad =
      stride === 1
        ? 'same'
        : ([
            [0, 0],
            [1, 1],
            [1, 1],
            [0, 0],
          ] as [[number, number], [number, number], [number, number], [number, number]]);
    const fused = run((x, f, b) =>
      conv(
        new Map([
          ['c.weight', f],
          ['c.bias', b],
        ]),
        'c',
        x,
        stride,
      ),
    );
    const plain = run((x, f, b) => tf.add(tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, stride, pad), b));
    for (let i = 0; i < 4; i++)
      expect(maxRelative((await fused[i].data()) as Float32Array, (await plain[i].data()) as Float32Array)).toBeLessThan(1e-5);
    tf.dispose([...fused, ...plain]);
  });
});
