import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmKernels } from '../src/model/wasm-kernels';

/** Node CLIs run on wasm (SIMD; ~20× faster than the pure-JS cpu backend for convolutions). */
export async function useNodeBackend(name: 'wasm' | 'cpu' = 'wasm'): Promise<void> {
  registerWasmKernels();
  tf.env().set('PROD', true); // no "install tfjs-node" banner (IS_TEST would also turn on a leak check that fused conv2d's gradient trips falsely)
  if (!(await tf.setBackend(name))) throw new Error(`the ${name} backend failed to initialise`);
  await tf.ready();
}
