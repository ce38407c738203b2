import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';
import { asTimestep, type Timestep } from '../../src/diffusion';

/** diffusers' deterministic scheduler-test fixtures: x = arange(N)/N, ε = reversed(arange(N))/N and the model ε̂ = x·t/(t+1). */
export const dummySample = (n = 768): tf.Tensor =>
  tf.tidy(() =>
    tf
      .range(0, n)
      .div(n)
      .reshape([4, 8, 8, n / 256]),
  );
/** A 0-based timestep of a T = 1000 schedule. */
export const at = (t: number): Timestep => asTimestep(t, 1000);

export const dummyNoise = (n = 768): tf.Tensor =>
  tf.tidy(() =>
    tf
      .range(n - 1, -1, -1)
      .div(n)
      .reshape([4, 8, 8, n / 256]),
  );
export const dummyModel = (x: tf.Tensor, t: number): tf.Tensor => tf.tidy(() => x.mul(t / (t + 1)));

export async function values(x: tf.Tensor): Promise<Float32Array> {
  return (await x.data()) as Float32Array;
}

export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  expect(worst).toBeLessThanOrEqual(tol);
}

/** Asserts that `body` leaves tf.memory().numTensors unchanged. */
export async function expectNoLeak(body: () => Promise<void> | void): Promise<void> {
  const before = tf.memory().numTensors;
  await body();
  expect(tf.memory().numTensors).toBe(before);
}

/** An easy data set: 4 fixed 16×16 images (a square, a bar, a ring, a cross) in [−1, 1]. */
export function easyBatch(): tf.Tensor4D {
  const imgs = [0, 1, 2, 3].map((k) =>
    Array.from({ length: 256 }, (_, i) => {
      const [y, x] = [Math.floor(i / 16) - 7.5, (i % 16) - 7.5];
      const on = [
        Math.max(Math.abs(x), Math.abs(y)) < 5,
        Math.abs(x) < 2,
        Math.abs(Math.hypot(x, y) - 5) < 1.5,
        Math.min(Math.abs(x), Math.abs(y)) < 1.5,
      ][k];
      return on ? 1 : -1;
    }),
  );
  return tf.tensor4d(imgs.flat(), [4, 16, 16, 1]);
}

/** A parity fixture's io.json (tools/torch/make_fixtures.py, make_diffusers_fixtures.py): NHWC x and y, t, labels, PyTorch's parameter count. */
export interface ParityIO {
  x: number[];
  shape: [number, number, number, number];
  t: number[];
  labels: number[] | null;
  y: number[];
  numParams: number;
  /** sample.py's guided ε at one timestep, for conditional models (label numClasses = "no label") */
  guided?: { t: number; guidance: number; y: number[] };
}
