import * as tf from '@tensorflow/tfjs';
import { qSample, type Schedule } from '../diffusion';
import type { UNet } from '../model/model';

/**
 * L_simple (Ho et al. 2020, eq. 14; Algorithm 1 line 5): E ‖ε − ε_θ(√ᾱ_t x0 + √(1−ᾱ_t) ε, t)‖²,
 * the mean over pixels and batch. x0 [B, H, W, C] in [−1, 1]; t int32 [B]; noise like x0.
 */
export function ddpmLoss(
  model: UNet,
  schedule: Schedule,
  x0: tf.Tensor,
  t: tf.Tensor1D,
  noise: tf.Tensor,
  labels?: tf.Tensor1D,
  training = true,
): tf.Scalar {
  return tf.tidy(() => tf.mean<tf.Scalar>(ddpmLossPerExample(model, schedule, x0, t, noise, labels, training)));
}

/** The same per example [B] (each the mean over its pixels): what the loss-by-timestep strip shows. */
export function ddpmLossPerExample(
  model: UNet,
  schedule: Schedule,
  x0: tf.Tensor,
  t: tf.Tensor1D,
  noise: tf.Tensor,
  labels?: tf.Tensor1D,
  training = true,
): tf.Tensor1D {
  return tf.tidy(() => {
    const xt = qSample(schedule, x0, noise, t); // eq. (4)
    const eps = model.predict(xt, t, { labels, training });
    return tf.mean<tf.Tensor1D>(tf.square(tf.sub(noise, eps)), [1, 2, 3]);
  });
}
