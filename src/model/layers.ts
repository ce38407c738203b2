import * as tf from '@tensorflow/tfjs';

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

/** x·W + b; x [N, in], W [in, out]. */
export function dense(w: Weights, name: string, x: tf.Tensor): tf.Tensor {
  return tf.add(tf.matMul(x as tf.Tensor2D, weight(w, `${name}.weight`) as tf.Tensor2D), weight(w, `${name}.bias`));
}

/**
 * Convolution with filter [k, k, in, out] and its bias in one op (tf.fused.conv2d: one kernel
 * forward; its gradient is the two convolution gradients and a sum); 'same' padding (k odd,
 * symmetric) or stride 2 with padding 1.
 */
export function conv(w: Weights, name: string, x: tf.Tensor, stride: 1 | 2 = 1): tf.Tensor {
  const filter = weight(w, `${name}.weight`) as tf.Tensor4D;
  const pad = stride === 1 ? 'same' : ([[0, 0], [1, 1], [1, 1], [0, 0]] as [[number, number], [number, number], [number, number], [number, number]]);
  return tf.fused.conv2d({ x: x as tf.Tensor4D, filter, strides: stride, pad, bias: weight(w, `${name}.bias`) });
}

/** Same group count rule as the PyTorch mirror: min(groups, channels). */
export const groupCount = (groups: number, channels: number): number => Math.min(groups, channels);

/** GroupNorm's ε, as in PyTorch. */
const GN_EPS = 1e-5;

/**
 * GroupNorm (Wu & He 2018) with its affine transform, optionally followed by SiLU, as one op with a
 * hand-derived gradient. The forward pass is the composite (normalise over H, W and the channels of
 * each group); the backward pass is the closed form
 *   ∂L/∂z = ∂L/∂y · σ(z)(1 + z(1 − σ(z)))      (SiLU, when fused; z = γ x̂ + β)
 *   ∂L/∂γ = Σ_{b,h,w} ∂L/∂z · x̂,  ∂L/∂β = Σ_{b,h,w} ∂L/∂z
 *   ∂L/∂x = r · (g − mean_group(g) − x̂ · mean_group(g · x̂)),  g = ∂L/∂z · γ,  r = 1/√(σ²_group + ε)
 * instead of autodiff through a dozen ops: the training step runs a few kernels per norm instead of
 * ~40, and saves three tensors instead of a copy of every intermediate. tests/unit/layers.test.ts
 * checks values and all three gradients against autodiff of the composite.
 */
export function groupNorm(w: Weights, name: string, x: tf.Tensor, groups: number, fuseSilu = false): tf.Tensor {
  const [b, h, wd, c] = x.shape;
  const g = groupCount(groups, c);
  const grouped = [b, h, wd, g, c / g];
  const axes = [1, 2, 4];
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xIn, gamma, beta] = args as tf.Tensor[];
    const save = args[3] as tf.GradSaveFunc;
    const xg = tf.reshape(xIn, grouped); // [B, H, W, G, C/G]
    const centred = tf.sub(xg, tf.mean(xg, axes, true));
    const r = tf.rsqrt(tf.add(tf.mean(tf.square(centred), axes, true), GN_EPS)); // [B, 1, 1, G, 1]
    const xHat = tf.mul(centred, r);
    const z = tf.add(tf.mul(tf.reshape(xHat, [b, h, wd, c]), gamma), beta);
    save([xHat, r, z, gamma]);
    return {
      value: fuseSilu ? tf.mul(z, tf.sigmoid(z)) : z,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sxHat, sr, sz, sGamma] = saved;
        let dz = dy;
        if (fuseSilu) {
          const s = tf.sigmoid(sz);
          dz = tf.mul(dy, tf.mul(s, tf.add(1, tf.mul(sz, tf.sub(1, s)))));
        }
        const xHatFlat = tf.reshape(sxHat, [b, h, wd, c]);
        const dGamma = tf.sum(tf.mul(dz, xHatFlat), [0, 1, 2]);
        const dBeta = tf.sum(dz, [0, 1, 2]);
        const gr = tf.reshape(tf.mul(dz, sGamma), grouped);
        const dx = tf.mul(sr, tf.sub(tf.sub(gr, tf.mean(gr, axes, true)), tf.mul(sxHat, tf.mean(tf.mul(gr, sxHat), axes, true))));
        return [tf.reshape(dx, [b, h, wd, c]), dGamma, dBeta];
      },
    };
  });
  return op(x, weight(w, `${name}.weight`), weight(w, `${name}.bias`));
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
