import * as tf from '@tensorflow/tfjs';
import { SeededNormal, type SeededNormalState } from './seeded-normal';

/**
 * The seeded generator as tensors: the same seed gives the same sequence of noise tensors on every
 * backend (generated in JS, then uploaded) and therefore the same sampling trajectory.
 */
export class GaussianRng extends SeededNormal {
  static fromState(state: SeededNormalState): GaussianRng {
    return new GaussianRng(state.seed).restore(state);
  }

  /** A float32 tensor of standard-normal values; the caller owns (disposes) it. */
  randn(shape: number[]): tf.Tensor {
    return tf.tensor(this.normalArray(shape.reduce((a, b) => a * b, 1)), shape, 'float32');
  }
}

/**
 * z for a reverse step: the given tensor, or one drawn from `source` (an unseeded generator when
 * omitted). Call inside tf.tidy so a drawn tensor is freed with the step.
 */
export function drawNoise(source: tf.Tensor | GaussianRng | undefined, shape: number[]): tf.Tensor {
  if (source instanceof tf.Tensor) {
    if (source.shape.length !== shape.length || source.shape.some((d, i) => d !== shape[i]))
      throw new RangeError(`noise [${source.shape}] must have the sample's shape [${shape}]`);
    return source;
  }
  return (source ?? new GaussianRng(Math.floor(Math.random() * 2 ** 31))).randn(shape);
}
