import type * as tf from '@tensorflow/tfjs';
import { rawBuffers } from './raw-buffers';
import { timestepEmbeddingValues } from './timestep-embedding';

/** The timestep embedding (./timestep-embedding) on cpu or wasm, straight on their buffers. */
function kernel(name: 'cpu' | 'wasm'): tf.KernelFunc {
  return ({ inputs, backend }) => {
    const { t, freqs } = inputs as unknown as { t: tf.TensorInfo; freqs: tf.TensorInfo };
    const raw = rawBuffers(backend, name);
    return raw.run([t.shape[0], 2 * freqs.shape[0]], (out) => timestepEmbeddingValues(raw.view(t), raw.view(freqs) as Float32Array, out));
  };
}

export const timestepEmbeddingCpu = kernel('cpu');
export const timestepEmbeddingWasm = kernel('wasm');
