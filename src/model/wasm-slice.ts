import * as tf from '@tensorflow/tfjs';

/**
 * Slice and SplitV for the WASM backend without copying their input. tfjs 4.22's wasm Slice reads
 * its input with readSync, which copies the whole tensor out of the wasm heap on every call: taking
 * 105 weight-sized pieces out of the optimizer's flat 1.06M-float buffer cost ~200 ms (2 ms a piece),
 * against ~0.02 ms a piece for the copy itself. A contiguous slice (e.g. any piece of a 1-D tensor,
 * or whole rows) here copies straight from a view of the heap; other slices go to the backend's own.
 */

type WasmBackend = tf.KernelBackend & {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
};

/** The backend's own Slice, for the slices ours does not take. */
let nativeSlice: tf.KernelFunc | null = null;

/** Keeps the backend's own Slice kernel before registerWasmKernels replaces it. */
export function captureNativeSlice(): void {
  const own = tf.getKernel(tf.Slice, 'wasm');
  if (own && own.kernelFunc !== slice) nativeSlice = own.kernelFunc;
}

export const slice: tf.KernelFunc = (args) => {
  const { inputs, backend, attrs } = args;
  const { x } = inputs as { x: tf.TensorInfo };
  const be = backend as WasmBackend;
  const { begin, size } = attrs as unknown as tf.SliceAttrs;
  const [b, s] = tf.slice_util.parseSliceParams(x, begin, size);
  if (x.dtype === 'string' || !tf.slice_util.isSliceContinous(x.shape, b, s)) {
    if (!nativeSlice)
      throw new Error(
        "wasm Slice: the backend's own Slice kernel was not captured (call registerWasmKernels after importing the wasm backend)",
      );
    return nativeSlice(args);
  }
  const out = be.makeOutput(s, x.dtype);
  // views taken after the allocation: makeOutput may grow the heap, which detaches older views
  const offset = tf.slice_util.computeFlatOffset(b, tf.util.computeStrides(x.shape));
  const n = tf.util.sizeFromShape(s);
  be.typedArrayFromHeap(out).set(be.typedArrayFromHeap(x).subarray(offset, offset + n));
  return out;
};

/** tf.split: consecutive slices along one axis (the backend's SplitV, but through the slice above). */
export const splitV: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x } = inputs as { x: tf.TensorInfo };
  const { numOrSizeSplits, axis } = attrs as unknown as tf.SplitVAttrs;
  const ax = tf.util.parseAxisParam(axis, x.shape)[0];
  const sizes = tf.backend_util.prepareSplitSize(x, numOrSizeSplits, ax);
  const begin = new Array<number>(x.shape.length).fill(0);
  return sizes.map((n) => {
    const size = x.shape.slice();
    size[ax] = n;
    const piece = slice({ inputs: { x }, backend, attrs: { begin: begin.slice(), size } }) as tf.TensorInfo;
    begin[ax] += n;
    return piece;
  });
};
