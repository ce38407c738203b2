import type * as tf from '@tensorflow/tfjs';
import { gradOutputSize, groupNormKernelInputs } from './group-norm';
import { run } from '../wasm-kernels';
import { groupNormBackward, groupNormBuffers, groupNormForward } from './group-norm-cpu';

/**
 * GroupNorm's two kernels on wasm: the loops of ./group-norm-cpu on views of the wasm heap, with the
 * sigmoid of SiLU taken by the backend's own SIMD kernels (a JS exp per value cost more than the
 * whole composite). Those are called as kernel functions, as tfjs-wasm's kernels call one another
 * (`run` of ../wasm-kernels.ts): the engine sees one kernel. Every allocation may grow the heap and detach
 * older views, so views are taken again after each.
 */
type WasmBackend = tf.KernelBackend & {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
  disposeData(id: object): boolean;
};

/** GroupNorm's inputs as views of the heap, taken now (see above). */
const buffers = (be: WasmBackend, x: tf.TensorInfo, gamma: tf.TensorInfo, beta: tf.TensorInfo, shift: tf.TensorInfo | undefined) =>
  groupNormBuffers((t) => be.typedArrayFromHeap(t), x, gamma, beta, shift);

export const groupNormWasm: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, gamma, beta, shift, attrs: a } = groupNormKernelInputs(inputs, attrs, false);
  const be = backend as WasmBackend;
  const z = be.makeOutput(x.shape, 'float32');
  groupNormForward(buffers(be, x, gamma, beta, shift), a, be.typedArrayFromHeap(z), false);
  if (!a.silu) return z;
  const s = run(be, 'Sigmoid', { x: z });
  const y = run(be, 'Multiply', { a: z, b: s }); // SiLU(z) = z·σ(z)
  be.disposeData(z.dataId);
  be.disposeData(s.dataId);
  return y;
};

export const groupNormGradWasm: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, gamma, beta, dy, shift, attrs: a } = groupNormKernelInputs(inputs, attrs, true);
  const be = backend as WasmBackend;
  const out = be.makeOutput([gradOutputSize(x.shape)], 'float32');
  let sigma: tf.TensorInfo | null = null;
  if (a.silu) {
    const z = be.makeOutput(x.shape, 'float32');
    groupNormForward(buffers(be, x, gamma, beta, shift), a, be.typedArrayFromHeap(z), false);
    sigma = run(be, 'Sigmoid', { x: z });
    be.disposeData(z.dataId);
  }
  groupNormBackward(
    buffers(be, x, gamma, beta, shift),
    be.typedArrayFromHeap(dy!),
    a,
    be.typedArrayFromHeap(out),
    sigma && be.typedArrayFromHeap(sigma),
  );
  if (sigma) be.disposeData(sigma.dataId);
  return out;
};
