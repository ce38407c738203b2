import * as tf from '@tensorflow/tfjs';

/**
 * The U-Net's building blocks as plain functions of NHWC tensors and named weights.
 * Only ops with gradients on every backend (webgpu, webgl, wasm with ./wasm-gradients, cpu).
 */
export type Weights = ReadonlyMap<string, tf.Tensor>;

export function weight(w: Weights, name: string): tf.Tensor {
  const t = w.get(name);
  if (!t) throw new Error(`missing weight '${name}'`);
  return t;
}

/** x·W + b; x [N, in], W [in, out]. */
export function dense(w: Weights, name: string, x: tf.Tensor): tf.Tensor {
  return tf.add(tf.matMul(x as tf.Tensor2D, weight(w, `${name}.weight`) as tf.Tensor2D), weight(w, `${name}.bias`));
}

/** Convolution with filter [k, k, in, out]; 'same' padding (k odd, symmetric) or stride 2 with padding 1. */
export function conv(w: Weights, name: string, x: tf.Tensor, stride: 1 | 2 = 1): tf.Tensor {
  const filter = weight(w, `${name}.weight`) as tf.Tensor4D;
  const pad = stride === 1 ? 'same' : ([[0, 0], [1, 1], [1, 1], [0, 0]] as [[number, number], [number, number], [number, number], [number, number]]);
  return tf.add(tf.conv2d(x as tf.Tensor4D, filter, stride, pad), weight(w, `${name}.bias`));
}

/** Same group count rule as the PyTorch mirror: min(groups, channels). */
export const groupCount = (groups: number, channels: number): number => Math.min(groups, channels);

/** GroupNorm (Wu & He 2018): normalise over H, W and the channels of each group; eps 1e-5 as in PyTorch. */
export function groupNorm(w: Weights, name: string, x: tf.Tensor, groups: number): tf.Tensor {
  const [b, h, wd, c] = x.shape;
  const g = groupCount(groups, c);
  const grouped = tf.reshape(x, [b, h, wd, g, c / g]); // [B, H, W, G, C/G]
  const { mean, variance } = tf.moments(grouped, [1, 2, 4], true);
  const normed = tf.reshape(tf.mul(tf.sub(grouped, mean), tf.rsqrt(tf.add(variance, 1e-5))), [b, h, wd, c]);
  return tf.add(tf.mul(normed, weight(w, `${name}.weight`)), weight(w, `${name}.bias`));
}

/** SiLU / swish, x·σ(x). */
export const silu = (x: tf.Tensor): tf.Tensor => tf.mul(x, tf.sigmoid(x));

/** 2×2 average pooling: [B, H, W, C] → [B, H/2, W/2, C]. */
export function avgPool2x2(x: tf.Tensor): tf.Tensor {
  const [b, h, w, c] = x.shape;
  return tf.mean(tf.reshape(x, [b, h / 2, 2, w / 2, 2, c]), [2, 4]);
}

/** Nearest-neighbour ×2 upsampling: [B, H, W, C] → [B, 2H, 2W, C] (each pixel becomes a 2×2 block). */
export function upsampleNearest2x(x: tf.Tensor): tf.Tensor {
  const [b, h, w, c] = x.shape;
  return tf.reshape(tf.mul(tf.reshape(x, [b, h, 1, w, 1, c]), tf.ones([1, 1, 2, 1, 2, 1])), [b, 2 * h, 2 * w, c]);
}

/**
 * Transformer sinusoidal embedding of the timestep (Ho et al. 2020, appendix B; Vaswani et al. 2017):
 * [sin(t·f_i), cos(t·f_i)], f_i = 10000^(−i/(half−1)), i < half = dim/2. t [B] → [B, dim].
 */
export function timestepEmbedding(t: tf.Tensor, dim: number): tf.Tensor {
  const half = dim / 2;
  const freqs = Float32Array.from({ length: half }, (_, i) => Math.exp((-Math.log(10000) * i) / (half - 1)));
  const args = tf.mul(tf.reshape(tf.cast(t, 'float32'), [-1, 1]), tf.tensor2d(freqs, [1, half])); // [B, half]
  return tf.concat([tf.sin(args), tf.cos(args)], 1);
}
