import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmKernels } from '../src/model/wasm-kernels';
import { describeNodeAdapter, installNodeWebGPU, NO_ADAPTER_MESSAGE } from './node-webgpu';

export const NODE_BACKENDS = ['wasm', 'cpu', 'webgpu'] as const;
export type NodeBackendName = (typeof NODE_BACKENDS)[number];

/** `webgpu` was asked for but Dawn finds no adapter: the CLIs print the message and exit with code 2. */
export class NoAdapterError extends Error {
  override name = 'NoAdapterError';
  constructor() {
    super(NO_ADAPTER_MESSAGE);
  }
}

/**
 * Node CLIs run on wasm by default (SIMD; ~20× faster than the pure-JS cpu backend for convolutions);
 * `webgpu` runs through Dawn (scripts/node-webgpu.ts), for GPU servers. Returns one line saying what
 * runs (the adapter, for webgpu, is also printed on stderr).
 */
export async function useNodeBackend(name: NodeBackendName = 'wasm'): Promise<string> {
  registerWasmKernels();
  tf.env().set('PROD', true); // no "install tfjs-node" banner (IS_TEST would also turn on a leak check that fused conv2d's gradient trips falsely)
  let info = name === 'cpu' ? 'tfjs pure-JS cpu backend' : '';
  if (name === 'webgpu') {
    const adapter = await installNodeWebGPU();
    if (adapter === null) throw new NoAdapterError();
    // the backend registers itself at import only where navigator.gpu exists, so import it now
    await import('@tensorflow/tfjs-backend-webgpu');
    info = `webgpu on ${describeNodeAdapter(adapter)}`;
    process.stderr.write(`${info}\n`);
  }
  if (!(await tf.setBackend(name))) throw new Error(`the ${name} backend failed to initialise`);
  await tf.ready();
  if (name === 'wasm')
    info = `wasm, SIMD ${tf.env().getBool('WASM_HAS_SIMD_SUPPORT') ? 'on' : 'off'}, threads ${tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') ? 'on' : 'off'}`;
  return info;
}

/** useNodeBackend for a CLI: null, once the reason is printed, when webgpu finds no adapter (the CLI then exits 2). */
export async function useCliBackend(name: NodeBackendName): Promise<string | null> {
  try {
    return await useNodeBackend(name);
  } catch (e) {
    if (!(e instanceof NoAdapterError)) throw e;
    console.error(`error: ${e.message}`);
    return null;
  }
}
