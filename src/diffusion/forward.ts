import * as tf from '@tensorflow/tfjs';
import { posteriorCoefficients, type Schedule } from './schedule';
import { asTimestep } from './timestep';

/** A single timestep (same for the whole batch) or an int32 tensor [B] of per-example timesteps. */
export type Timesteps = number | tf.Tensor1D;

/**
 * q(x_t | x_0): x_t = √ᾱ_t x0 + √(1−ᾱ_t) ε — eq. (4).
 * x0 and noise are [B, H, W, C] (or any shape whose first axis is the batch when t is a tensor).
 */
export function qSample(schedule: Schedule, x0: tf.Tensor, noise: tf.Tensor, t: Timesteps): tf.Tensor {
  checkSameShape(x0, noise, 'x0', 'noise');
  return tf.tidy(() => {
    const sqrtAc = gather(schedule, schedule.alphasCumprod, t, x0.rank, Math.sqrt);
    const sqrtOneMinusAc = gather(schedule, schedule.alphasCumprod, t, x0.rank, (a) => Math.sqrt(1 - a));
    return tf.add(tf.mul(sqrtAc, x0), tf.mul(sqrtOneMinusAc, noise));
  });
}

/**
 * The posterior q(x_{prev} | x_t, x0) = N(mean, variance·I), eq. (6)–(7), for prev = t − 1 (or an
 * earlier timestep when a run skips some: diffusers' DDPM with fewer steps). The caller owns `mean`.
 */
export function qPosterior(
  schedule: Schedule,
  x0: tf.Tensor,
  xt: tf.Tensor,
  t: number,
  prevT = t - 1,
): { mean: tf.Tensor; variance: number } {
  asTimestep(t, schedule.numTrainTimesteps);
  const c = posteriorCoefficients(schedule, t, prevT);
  return { mean: tf.tidy(() => tf.add(tf.mul(c.x0Coef, x0), tf.mul(c.xtCoef, xt))), variance: c.variance };
}

/**
 * A per-timestep coefficient f(table[t]) for a number t (a scalar) or for a batch of timesteps
 * (a float32 tensor [B, 1, …, 1] that broadcasts over an example of rank `rank`).
 */
function gather(schedule: Schedule, table: Float64Array, t: Timesteps, rank: number, f: (v: number) => number): number | tf.Tensor {
  if (typeof t === 'number') {
    asTimestep(t, schedule.numTrainTimesteps);
    return f(table[t]);
  }
  if (t.dtype !== 'int32' || t.rank !== 1)
    throw new TypeError(`per-example timesteps must be an int32 tensor [B], got ${t.dtype} [${t.shape}]`);
  const values = Float32Array.from(table, f);
  return tf.gather(tf.tensor1d(values), t).reshape([t.shape[0], ...new Array<number>(rank - 1).fill(1)]);
}

export function checkSameShape(a: tf.Tensor, b: tf.Tensor, nameA: string, nameB: string): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i]))
    throw new RangeError(`${nameA} [${a.shape}] and ${nameB} [${b.shape}] must have the same shape`);
}
