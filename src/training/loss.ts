import * as tf from '@tensorflow/tfjs';
import { snr, type Schedule } from '../diffusion/schedule';
import type { Scheduler } from '../diffusion/scheduler';
import type { UNet } from '../model/model';
import type { EncodedText } from '../model/unet';

/** How training noises its images: a scheduler's forward process q(x_t | x_0) (`addNoise`, eq. 4). */
export type ForwardProcess = Pick<Scheduler, 'addNoise'>;

/**
 * L_simple (Ho et al. 2020, eq. 14; Algorithm 1 line 5) per example: ‖ε − ε_θ(√ᾱ_t x0 + √(1−ᾱ_t) ε, t)‖²,
 * the mean over each example's pixels, [B] — the training step averages it over the batch, the
 * loss-by-timestep strip reads it per example. x0 [B, H, W, C] in [−1, 1]; t int32 [B]; noise like x0;
 * the condition: class labels [B] (int32), or a text model's captions encoded (model.encode).
 */
export function ddpmLoss(
  model: UNet,
  forward: ForwardProcess,
  x0: tf.Tensor,
  t: tf.Tensor1D,
  noise: tf.Tensor,
  condition?: tf.Tensor1D | EncodedText,
  training = true,
): tf.Tensor1D {
  return tf.tidy(() => {
    const xt = forward.addNoise(x0, noise, t); // eq. (4)
    const given = condition instanceof tf.Tensor ? { labels: condition } : { text: condition };
    const eps = model.predict(xt, t, { ...given, training });
    return tf.mean<tf.Tensor1D>(tf.square(tf.sub(noise, eps)), [1, 2, 3]);
  });
}

/**
 * Min-SNR-γ loss weights (Hang et al. 2023, eq. 8 for an ε-predicting model): min(SNR_t, γ) / SNR_t
 * per drawn timestep, SNR_t = ᾱ_t / (1 − ᾱ_t). Timesteps whose SNR is above γ (the nearly clean
 * ones, which L_simple over-weights) count less; the noisy ones keep weight 1. γ = 5 in the paper.
 */
export function minSnrWeights(schedule: Schedule, t: ArrayLike<number>, gamma: number): Float32Array {
  return Float32Array.from(t, (ti) => {
    const s = snr(schedule, ti);
    return Math.min(s, gamma) / s;
  });
}
