import type * as tf from '@tensorflow/tfjs';
import { getKernel } from '@tensorflow/tfjs';
import { gradOutputSize, groupNormKernelInputs } from './group-norm';
import { groupNormBackward, groupNormForward, type GroupNormBuffers } from './group-norm-cpu';

/**
 * GroupNorm's two kernels on wasm: the loops of ./group-norm-cpu on views of the wasm heap, with the
 * sigmoid of SiLU taken by the backend's own SIMD kernels (a JS exp per value cost more than the
 * whole composite). Those are called as kernel functions, as tfjs-wasm's kernels call one another
 * (./../wasm-kernels.ts): the engine sees one kernel. Every allocation may grow the heap and detach
 * older views, so views are taken again after each.
 */
type WasmBackend = tf.KernelBackend & { makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo; typedArrayFromHeap(t: tf.TensorInfo): Float32Array; disposeData(id: object): boolean };

function native(backend: WasmBackend, name: string, inputs: Record<string, tf.TensorInfo>): tf.TensorInfo {
  const k = getKernel(name, 'wasm');
  if (!k) throw new Error(`GroupNorm on wasm needs the backend's '${name}' kernel (import '@tensorflow/tfjs-backend-wasm')`);
  return k.kernelFunc({ inputs, backend, attrs: {} }) as tf.TensorInfo;
}

function buffers(be: WasmBackend, x: tf.TensorInfo, gamma: tf.TensorInfo, beta: tf.TensorInfo, shift: tf.TensorInfo | undefined): GroupNormBuffers {
  const view = (t: tf.TensorInfo) => be.typedArrayFromHeap(t);
  return { x: view(x), gamma: view(gamma), beta: view(beta), shift: shift ? view(shift) : null, shiftWidth: shift?.shape[1] ?? 0, shape: x.shape };
}

export const groupNormWasm: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, gamma, beta, shift, attrs: a } = groupNormKernelInputs(inputs, attrs, false);
  const be = backend as WasmBackend;
  const z = be.makeOutput(x.shape, 'float32');
  groupNormForward(buffers(be, x, gamma, beta, shift), a, be.typedArrayFromHeap(z), false);
  if (!a.silu) return z;
  const s = native(be, 'Sigmoid', { x: z });
  const y = native(be, 'Multiply', { a: z, b: s }); // SiLU(z) = z·σ(z)
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
    sigma = native(be, 'Sigmoid', { x: z });
    be.disposeData(z.dataId);
  }
  groupNormBackward(buffers(be, x, gamma, beta, shift), be.typedArrayFromHeap(dy!), a, be.typedArrayFromHeap(out), sigma && be.typedArrayFromHeap(sigma));
  if (sigma) be.disposeData(sigma.dataId);
  return out;
};
