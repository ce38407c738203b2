import * as tf from '@tensorflow/tfjs';
import { timestepEmbeddingValues } from './timestep-embedding';

interface Inputs {
  t: tf.TensorInfo;
  freqs: tf.TensorInfo;
}

/** The cpu backend's kernel (./timestep-embedding): its tensors are JS typed arrays. */
export const timestepEmbeddingCpu: tf.KernelFunc = ({ inputs, backend }) => {
  const { t, freqs } = inputs as unknown as Inputs;
  const be = backend as tf.KernelBackend & { data: { get(id: object): { values: Float32Array | Int32Array } }; makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo };
  const out = new Float32Array(t.shape[0] * 2 * freqs.shape[0]);
  timestepEmbeddingValues(be.data.get(t.dataId).values, be.data.get(freqs.dataId).values as Float32Array, out);
  return be.makeTensorInfo([t.shape[0], 2 * freqs.shape[0]], 'float32', out);
};

/** The wasm backend's kernel, on views of its heap. */
export const timestepEmbeddingWasm: tf.KernelFunc = ({ inputs, backend }) => {
  const { t, freqs } = inputs as unknown as Inputs;
  const be = backend as tf.KernelBackend & { makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo; typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array };
  const out = be.makeOutput([t.shape[0], 2 * freqs.shape[0]], 'float32');
  // views taken after the allocation: makeOutput may grow the heap, which detaches older views
  timestepEmbeddingValues(be.typedArrayFromHeap(t), be.typedArrayFromHeap(freqs) as Float32Array, be.typedArrayFromHeap(out) as Float32Array);
  return out;
};
