import * as tf from '@tensorflow/tfjs';
import { groupNormOp, type GroupNormShift } from './kernels/group-norm';
import { registerModelKernels } from './kernels/register';
import type { ConvPadding, NormSpec } from './plan';

registerModelKernels();

/**
 * The U-Net's building blocks as plain functions of NHWC tensors and named weights.
 * Only ops with gradients on every backend (webgpu, webgl, wasm with ./wasm-kernels, cpu).
 */
export type Weights = ReadonlyMap<string, tf.Tensor>;

export function weight(w: Weights, name: string): tf.Tensor {
  const t = w.get(name);
  if (!t) throw new Error(`missing weight '${name}'`);
  return t;
}

/** x·W + b in one kernel (tf.fused.matMul); x [N, in], W [in, out]. */
export function dense(w: Weights, name: string, x: tf.Tensor): tf.Tensor {
  return tf.fused.matMul({ a: x, b: weight(w, `${name}.weight`), bias: weight(w, `${name}.bias`) });
}

const PADDINGS: Record<ConvPadding, 'same' | [[number, number], [number, number], [number, number], [number, number]]> = {
  same: 'same',
  one: [
    [0, 0],
    [1, 1],
    [1, 1],
    [0, 0],
  ],
  'right-bottom': [
    [0, 0],
    [0, 1],
    [0, 1],
    [0, 0],
  ],
};

/**
 * Convolution with filter [k, k, in, out] and its bias in one op (tf.fused.conv2d: one kernel
 * forward; its gradient is the two convolution gradients and a sum); 'same' padding (k odd,
 * symmetric, stride 1), one pixel on every side, or one on the right and bottom.
 */
export function conv(
  w: Weights,
  name: string,
  x: tf.Tensor,
  stride: 1 | 2 = 1,
  padding: ConvPadding = stride === 1 ? 'same' : 'one',
): tf.Tensor {
  const filter = weight(w, `${name}.weight`) as tf.Tensor4D;
  return tf.fused.conv2d({ x: x as tf.Tensor4D, filter, strides: stride, pad: PADDINGS[padding], bias: weight(w, `${name}.bias`) });
}

/**
 * GroupNorm (Wu & He 2018) with its affine transform, optionally followed by SiLU and optionally
 * applied to x + shift (a residual block's timestep projection, taken from the columns of `shift`
 * starting at its offset): one kernel on every backend, with a closed-form gradient (./kernels/group-norm).
 */
export function groupNorm(w: Weights, norm: NormSpec, x: tf.Tensor, fuseSilu = false, shift?: GroupNormShift): tf.Tensor {
  return groupNormOp(x, weight(w, `${norm.name}.weight`), weight(w, `${norm.name}.bias`), norm.groups, {
    silu: fuseSilu,
    shift,
    epsilon: norm.eps,
  });
}

/** SiLU / swish, x·σ(x). */
export const silu = (x: tf.Tensor): tf.Tensor => tf.mul(x, tf.sigmoid(x));

/** 2×2 average pooling: [B, H, W, C] → [B, H/2, W/2, C] (one kernel). */
export function avgPool2x2(x: tf.Tensor): tf.Tensor {
  return tf.avgPool(x as tf.Tensor4D, 2, 2, 'valid');
}

/**
 * Nearest-neighbour ×2 upsampling: [B, H, W, C] → [B, 2H, 2W, C], each pixel a 2×2 block (one kernel:
 * without corner alignment or half-pixel centres, output pixel i reads input pixel ⌊i/2⌋).
 */
export function upsampleNearest2x(x: tf.Tensor): tf.Tensor {
  const [, h, w] = x.shape;
  return tf.image.resizeNearestNeighbor(x as tf.Tensor4D, [2 * h, 2 * w]);
}

/** LayerNorm over the last axis (Ba et al. 2016), ε = 1e-5 as PyTorch's, with its affine transform. */
export function layerNorm(w: Weights, name: string, x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, -1, true);
    const normed = tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5)));
    return tf.add(tf.mul(normed, weight(w, `${name}.weight`)), weight(w, `${name}.bias`));
  });
}

/**
 * Scaled dot-product attention of q [B, Nq, C] over k, v [B, Nk, C] in `heads` heads, with an
 * additive mask [B, 1, 1, Nk] (0 keeps a key, −1e9 hides it) when given: softmax(q kᵀ/√d + mask) v.
 * Returns the mixed values [B, Nq, C] and the attention weights [B, heads, Nq, Nk].
 */
export function multiHeadAttention(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  heads: number,
  mask?: tf.Tensor,
): { out: tf.Tensor; weights: tf.Tensor } {
  const [b, nq, c] = q.shape;
  const nk = k.shape[1]!;
  const d = c / heads;
  const split = (m: tf.Tensor, n: number) => tf.transpose(tf.reshape(m, [b, n, heads, d]), [0, 2, 1, 3]); // [B, heads, N, d]
  let logits = tf.div(tf.matMul(split(q, nq), split(k, nk), false, true), Math.sqrt(d));
  if (mask) logits = tf.add(logits, mask);
  const weights = tf.softmax(logits);
  const out = tf.reshape(tf.transpose(tf.matMul(weights, split(v, nk)), [0, 2, 1, 3]), [b, nq, c]);
  return { out, weights };
}
