import * as tf from '@tensorflow/tfjs';

/**
 * The transformer sinusoidal embedding of the timestep (Ho et al. 2020, appendix B; Vaswani et al.
 * 2017) as one tfjs op: t [B] → [sin(t·f_i), cos(t·f_i)] [B, 2·half], f_i = 10000^(−i/(half−1)).
 * Built from ops it is six kernels (cast, reshape, multiply, sin, cos, concat), and GPU sin/cos are
 * inaccurate for large arguments (t·f_0 = t reaches 999: SwiftShader's err by 1.9e-4, which put the
 * shipped model 1.3e-4 away from PyTorch). Every backend's kernel forms the argument t·f_i in
 * float32, as PyTorch does, and then takes its sine and cosine accurately: in float64 on cpu and
 * wasm (./timestep-embedding-cpu); on WebGPU by an exact reduction modulo π/2 and minimax polynomials
 * instead of the GPU's sin/cos (./timestep-embedding-webgpu); WebGL runs the composite. t is data, not a weight: no gradient.
 */
export const TIMESTEP_EMBEDDING = 'DdpmTimestepEmbedding';

/**
 * f_i = 10000^(−i/(half − shift)), i < half, rounded to float32 (the kernels' second input): shift 1
 * is the playground's (and diffusers' freq_shift 1), 0 diffusers' default.
 */
export function embeddingFrequencies(dim: number, shift = 1): Float32Array {
  const half = dim / 2;
  return Float32Array.from({ length: half }, (_, i) => Math.exp((-Math.log(10000) * i) / (half - shift)));
}

/** [B] timesteps (int32 or float32) → [B, dim]. */
export function timestepEmbedding(t: tf.Tensor, dim: number, shift = 1): tf.Tensor {
  if (t.rank !== 1) throw new RangeError(`timestep embedding takes t as [B], got [${t.shape}]`);
  if (!Number.isInteger(dim) || dim < 4 || dim % 2 !== 0) throw new RangeError(`timestep embedding needs an even dim ≥ 4, got ${dim}`);
  const freqs = tf.tensor1d(embeddingFrequencies(dim, shift));
  const out = tf.engine().runKernel<tf.Tensor>(TIMESTEP_EMBEDDING, { t, freqs });
  freqs.dispose();
  return out;
}

/** The op from plain tfjs ops: the WebGL kernel, and the form the others replace. */
export function timestepEmbeddingComposite(t: tf.Tensor, freqs: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const args = tf.mul(tf.reshape(tf.cast(t, 'float32'), [-1, 1]), tf.reshape(freqs, [1, -1])); // [B, half]
    return tf.concat([tf.sin(args), tf.cos(args)], 1);
  });
}

/** The cpu and wasm kernels' arithmetic: out[b, i] = sin(fround(t_b·f_i)), out[b, half + i] = cos(…). */
export function timestepEmbeddingValues(t: ArrayLike<number>, freqs: Float32Array, out: Float32Array): void {
  const half = freqs.length;
  for (let b = 0; b < t.length; b++)
    for (let i = 0; i < half; i++) {
      const a = Math.fround(Math.fround(t[b]) * freqs[i]); // the float32 argument PyTorch forms
      out[b * 2 * half + i] = Math.sin(a);
      out[b * 2 * half + half + i] = Math.cos(a);
    }
}
