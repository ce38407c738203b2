import type * as tf from '@tensorflow/tfjs';

/**
 * Direct access to a CPU-side backend's tensor memory, for kernels written as plain loops: the cpu
 * backend keeps JS typed arrays, the wasm backend its heap. `run` allocates the output and hands
 * `compute` its buffer; inputs are read through `view`, called inside `compute` (on wasm, allocating
 * may grow the heap, which detaches views taken before).
 */
export interface RawBuffers {
  view(t: tf.TensorInfo): Float32Array | Int32Array;
  run(shape: number[], compute: (out: Float32Array) => void): tf.TensorInfo;
}

type CpuBackend = {
  data: { get(id: object): { values: Float32Array | Int32Array } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo;
};
type WasmBackend = {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array;
};

export function rawBuffers(backend: unknown, name: 'cpu' | 'wasm'): RawBuffers {
  if (name === 'cpu') {
    const be = backend as CpuBackend;
    return {
      view: (t) => be.data.get(t.dataId).values,
      run: (shape, compute) => {
        const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
        compute(out);
        return be.makeTensorInfo(shape, 'float32', out);
      },
    };
  }
  const be = backend as WasmBackend;
  return {
    view: (t) => be.typedArrayFromHeap(t),
    run: (shape, compute) => {
      const out = be.makeOutput(shape, 'float32');
      compute(be.typedArrayFromHeap(out) as Float32Array);
      return out;
    },
  };
}
