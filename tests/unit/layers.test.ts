import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { conv, groupNorm, silu } from '../../src/model/layers';
import { registerWasmKernels } from '../../src/model/wasm-kernels';

registerWasmKernels();
afterAll(async () => {
  await tf.setBackend('cpu');
});

/** GroupNorm as the plain composite autodiff differentiates (the layer before its hand-derived gradient). */
function compositeGroupNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, groups: number): tf.Tensor {
  const [b, h, w, c] = x.shape;
  const grouped = tf.reshape(x, [b, h, w, groups, c / groups]);
  const { mean, variance } = tf.moments(grouped, [1, 2, 4], true);
  const normed = tf.reshape(tf.mul(tf.sub(grouped, mean), tf.rsqrt(tf.add(variance, 1e-5))), [b, h, w, c]);
  return tf.add(tf.mul(normed, gamma), beta);
}

const randn = (shape: number[], seed: number, mean = 0) => tf.tidy(() => tf.randomNormal(shape, mean, 1, 'float32', seed).dataSync() as Float32Array);

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

describe.each(['cpu', 'wasm'] as const)('GroupNorm (+ SiLU) with its hand-derived gradient (%s)', (backend) => {
  it.each([
    ['8 groups of 3, with SiLU', [2, 7, 7, 24], 8, true],
    ['8 groups of 6, no SiLU', [3, 5, 4, 48], 8, false],
    ['one channel per group, with SiLU', [2, 4, 4, 4], 4, true],
    ['one group, with SiLU', [1, 6, 6, 5], 1, true],
  ] as const)('%s: value and ∂/∂x, ∂/∂γ, ∂/∂β equal autodiff of the composite', async (_name, shape, groups, fuse) => {
    await tf.setBackend(backend);
    const c = shape[3];
    const xv = randn([...shape], 1, 0.5);
    const gv = randn([c], 2, 1);
    const bv = randn([c], 3);
    const rv = randn([...shape], 4); // L = Σ y·r, so ∂L/∂y = r
    const run = (layer: (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.Tensor) =>
      tf.tidy(() => {
        const [x, g, b, r] = [tf.tensor(xv, [...shape]), tf.tensor(gv), tf.tensor(bv), tf.tensor(rv, [...shape])];
        const y = layer(x, g, b);
        const grads = tf.grads((x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(layer(x, g, b), r)))([x, g, b]);
        return [y, ...grads];
      });
    const fused = run((x, g, b) => groupNorm(new Map([['n.weight', g], ['n.bias', b]]), 'n', x, groups, fuse));
    const composite = run((x, g, b) => {
      const z = compositeGroupNorm(x, g, b, groups);
      return fuse ? silu(z) : z;
    });
    const names = ['y', 'dx', 'dγ', 'dβ'];
    for (let i = 0; i < 4; i++) {
      const [a, e] = [(await fused[i].data()) as Float32Array, (await composite[i].data()) as Float32Array];
      expect(maxRelative(a, e), names[i]).toBeLessThan(2e-5);
    }
    tf.dispose([...fused, ...composite]);
  });

  it('runs a handful of kernels for the forward and backward pass, and frees them', async () => {
    await tf.setBackend(backend);
    const x = tf.randomNormal([2, 8, 8, 16]);
    const [g, b] = [tf.ones([16]), tf.zeros([16])];
    const w = new Map([['n.weight', g], ['n.bias', b]]);
    const before = tf.memory().numTensors;
    const count = async (layer: (x: tf.Tensor) => tf.Tensor) =>
      (
        await tf.profile(() => {
          const grads = tf.grads((x: tf.Tensor) => tf.sum(layer(x)))([x]);
          tf.dispose(grads);
        })
      ).kernels.length;
    const fusedKernels = await count((v) => groupNorm(w, 'n', v, 8, true));
    const compositeKernels = await count((v) => silu(compositeGroupNorm(v, g, b, 8)));
    expect(tf.memory().numTensors).toBe(before);
    expect(fusedKernels).toBeLessThan(compositeKernels / 2);
    tf.dispose([x, g, b]);
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
    const pad = stride === 1 ? 'same' : ([[0, 0], [1, 1], [1, 1], [0, 0]] as [[number, number], [number, number], [number, number], [number, number]]);
    const fused = run((x, f, b) => conv(new Map([['c.weight', f], ['c.bias', b]]), 'c', x, stride));
    const plain = run((x, f, b) => tf.add(tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, stride, pad), b));
    for (let i = 0; i < 4; i++) expect(maxRelative((await fused[i].data()) as Float32Array, (await plain[i].data()) as Float32Array)).toBeLessThan(1e-5);
    tf.dispose([...fused, ...plain]);
  });
});
