import * as tf from '@tensorflow/tfjs';

/**
 * Conversions between the three things a denoiser may predict, for x_t = √ᾱ x0 + √(1−ᾱ) ε (eq. 4)
 * and v = √ᾱ ε − √(1−ᾱ) x0 (Salimans & Ho 2022). `alphaCumprod` is ᾱ_t: a number, or a tensor
 * that broadcasts against x_t (one value per example, shape [B, 1, 1, 1]).
 */
export type PredictionType = 'epsilon' | 'sample' | 'v_prediction';
type Coef = number | tf.Tensor;

const sqrt = (a: Coef): Coef => (typeof a === 'number' ? Math.sqrt(a) : tf.sqrt(a));
const oneMinus = (a: Coef): Coef => (typeof a === 'number' ? 1 - a : tf.sub(1, a));

/** x̂0 = (x_t − √(1−ᾱ) ε) / √ᾱ — eq. (15). */
export function x0FromEpsilon(xt: tf.Tensor, eps: tf.Tensor, alphaCumprod: Coef): tf.Tensor {
  return tf.tidy(() => tf.div(tf.sub(xt, tf.mul(sqrt(oneMinus(alphaCumprod)), eps)), sqrt(alphaCumprod)));
}

/** ε = (x_t − √ᾱ x0) / √(1−ᾱ), eq. (4) solved for ε. */
export function epsilonFromX0(xt: tf.Tensor, x0: tf.Tensor, alphaCumprod: Coef): tf.Tensor {
  return tf.tidy(() => tf.div(tf.sub(xt, tf.mul(sqrt(alphaCumprod), x0)), sqrt(oneMinus(alphaCumprod))));
}

/** v = √ᾱ ε − √(1−ᾱ) x0. */
export function velocity(x0: tf.Tensor, eps: tf.Tensor, alphaCumprod: Coef): tf.Tensor {
  return tf.tidy(() => tf.sub(tf.mul(sqrt(alphaCumprod), eps), tf.mul(sqrt(oneMinus(alphaCumprod)), x0)));
}

/** x0 = √ᾱ x_t − √(1−ᾱ) v. */
export function x0FromVelocity(xt: tf.Tensor, v: tf.Tensor, alphaCumprod: Coef): tf.Tensor {
  return tf.tidy(() => tf.sub(tf.mul(sqrt(alphaCumprod), xt), tf.mul(sqrt(oneMinus(alphaCumprod)), v)));
}

/** ε = √(1−ᾱ) x_t + √ᾱ v. */
export function epsilonFromVelocity(xt: tf.Tensor, v: tf.Tensor, alphaCumprod: Coef): tf.Tensor {
  return tf.tidy(() => tf.add(tf.mul(sqrt(oneMinus(alphaCumprod)), xt), tf.mul(sqrt(alphaCumprod), v)));
}

/** The model output, whatever it predicts, as the pair (x̂0, ε̂). The caller owns both tensors. */
export function toX0AndEpsilon(
  modelOutput: tf.Tensor,
  xt: tf.Tensor,
  alphaCumprod: number,
  predictionType: PredictionType,
): { x0: tf.Tensor; eps: tf.Tensor } {
  switch (predictionType) {
    case 'epsilon':
      return { x0: x0FromEpsilon(xt, modelOutput, alphaCumprod), eps: modelOutput.clone() };
    case 'sample':
      return { x0: modelOutput.clone(), eps: epsilonFromX0(xt, modelOutput, alphaCumprod) };
    case 'v_prediction':
      return {
        x0: x0FromVelocity(xt, modelOutput, alphaCumprod),
        eps: epsilonFromVelocity(xt, modelOutput, alphaCumprod),
      };
    default:
      throw new RangeError(`unknown predictionType '${String(predictionType)}'`);
  }
}
