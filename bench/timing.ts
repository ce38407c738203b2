import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../src/model/config';

/** The benches' clock and inputs: every timing ends on `await tensor.data()` (the GPU sync). */

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
export const now = (): number => performance.now();

/** Runs `make`, awaits its output's data (the GPU sync), disposes it; returns elapsed ms. */
export async function timed(make: () => tf.Tensor): Promise<number> {
  const t0 = now();
  const y = make();
  await y.data();
  const ms = now() - t0;
  y.dispose();
  return ms;
}

/** Deterministic inputs: x ~ N(0, 1) (seeded), t spread over [0, 1000), labels cycling through the classes. */
export function modelInputs(config: ModelConfig, batch: number) {
  const x = tf.randomNormal([batch, config.imageSize, config.imageSize, config.inChannels], 0, 1, 'float32', 1);
  const t = tf.tensor1d(
    Array.from({ length: batch }, (_, i) => (i * 397 + 123) % 1000),
    'int32',
  );
  const labelList = Array.from({ length: batch }, (_, i) => (config.numClasses > 0 ? i % config.numClasses : 0));
  const labels = config.numClasses > 0 ? tf.tensor1d(labelList, 'int32') : undefined;
  return { x, t, labels, labelList };
}

/** Measures the active backend. The caller has already done tf.setBackend(...) and tf.ready(). */
