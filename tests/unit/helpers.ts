import * as tf from '@tensorflow/tfjs';
import { expect } from 'vitest';

/** diffusers' deterministic scheduler-test fixtures: x = arange(N)/N and the model ε = x·t/(t+1). */
export const dummySample = (n = 768): tf.Tensor => tf.tidy(() => tf.range(0, n).div(n).reshape([4, 8, 8, n / 256]));
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
