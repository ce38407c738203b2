import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmGradients } from '../src/model/wasm-gradients';

/** Node CLIs run on wasm (SIMD; ~20× faster than the pure-JS cpu backend for convolutions). */
export async function useNodeBackend(name: 'wasm' | 'cpu' = 'wasm'): Promise<void> {
  registerWasmGradients();
  tf.env().set('IS_TEST', true); // no "install tfjs-node" banner
  if (!(await tf.setBackend(name))) throw new Error(`the ${name} backend failed to initialise`);
  await tf.ready();
}
