import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { registerWasmKernels } from '../model/wasm-kernels';
import { isolationNote } from './isolation';

/** The tfjs backends the playground can run on, fastest first. */
export const BACKENDS = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

export interface BackendReport {
  backend: BackendName;
  /** GPU adapter, e.g. "nvidia ampere", or "swiftshader (software fallback)"; null off the GPU. */
  adapter: string | null;
  /** True when WebGPU exists but only as a software fallback adapter (so it was not preferred). */
  webgpuFallbackOnly: boolean;
  /** True when WebGL runs on a software rasteriser (so WASM, faster there, was preferred). */
  webglSoftware: boolean;
  /** Why each backend tried before the chosen one was skipped. */
  skipped: Partial<Record<BackendName, string>>;
  /** On wasm: the threads XNNPACK computes with (null on other backends). */
  threads: number | null;
  /** On wasm with one thread: why there are no more (e.g. the page is not cross-origin isolated). */
  threadsNote: string | null;
  /** What the person should know about the choice: an override that was not a backend, or one that forces a slow software renderer. */
  notices: string[];
}

setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmUrl,
  'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimdUrl,
});
registerWasmKernels();

/**
 * WebAssembly threads need SharedArrayBuffer, which browsers give only to cross-origin-isolated
 * pages (COOP/COEP headers: the dev and preview servers send them; public/coi-serviceworker.js adds
 * them on static hosts). Then tfjs-wasm runs one XNNPACK thread per logical core.
 */
function wasmThreadsWanted(): number {
  const cores = typeof navigator !== 'undefined' ? navigator.hardwareConcurrency || 1 : 1;
  return isolationNote() === null ? Math.max(1, cores) : 1;
}

/**
 * Runs `start` (the wasm backend's initialisation) with `threads` threads. tfjs-wasm 4.22's binary
 * caps its thread pool at navigator.hardwareConcurrency / 2 (it assumes two hardware threads per
 * core), read once as the module starts: on a 2-core machine that is one thread whatever
 * setThreadsCount asks. So while it starts, this context's navigator reports twice the cores.
 */
async function withWasmThreads<T>(threads: number, start: () => Promise<T>): Promise<T> {
  setThreadsCount(threads);
  if (threads <= 1 || typeof navigator === 'undefined') return start();
  Object.defineProperty(navigator, 'hardwareConcurrency', { value: 2 * threads, configurable: true });
  try {
    return await start();
  } finally {
    delete (navigator as { hardwareConcurrency?: number }).hardwareConcurrency; // back to the prototype's getter
  }
}

async function webgpuAdapter(): Promise<GPUAdapter | null> {
  if (typeof navigator === 'undefined' || !('gpu' in navigator) || !navigator.gpu) return null;
  try {
    return await navigator.gpu.requestAdapter();
  } catch {
    return null;
  }
}

function describeAdapter(info: GPUAdapterInfo): string {
  const name = [info.vendor, info.architecture, info.device].filter(Boolean).join(' ') || 'unknown adapter';
  return (info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter ? `${name} (software fallback)` : name;
}

/** Tries one backend: it must initialise and run a small op. */
async function tryBackend(name: BackendName): Promise<string | null> {
  try {
    if (!(await tf.setBackend(name))) return 'failed to initialise';
    await tf.ready();
    const probe = tf.tidy(() => tf.matMul(tf.ones([2, 2]), tf.ones([2, 2])).sum());
    const v = (await probe.data())[0];
    probe.dispose();
    return v === 8 ? null : `computed a wrong result (${v})`;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** Renderer names of software rasterisers. */
const SOFTWARE_RENDERER = /swiftshader|llvmpipe|softpipe|software|basic render/i;

/**
 * True when WebGL would run on a software rasteriser (e.g. SwiftShader): either the browser refuses
 * a context that must not have a "major performance caveat", or the renderer names itself. There
 * WASM is much faster (measured here: a 6-step DDIM run of the shipped model took 1.5 s on WASM,
 * 39 s on SwiftShader WebGL).
 */
function webglIsSoftware(): boolean {
  try {
    const canvas = () => (typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(1, 1) : document.createElement('canvas'));
    if (!canvas().getContext('webgl2', { failIfMajorPerformanceCaveat: true })) return !!canvas().getContext('webgl2');
    const gl = canvas().getContext('webgl2');
    return !!gl && SOFTWARE_RENDERER.test(rendererName(gl));
  } catch {
    return false;
  }
}

/**
 * Chooses the backend: WebGPU when a real (non-fallback) adapter exists, else the first that works
 * of WebGL (on a real GPU), WASM, CPU. `preferred` (a person's override) is tried first, whatever
 * the adapter. Software GPUs are tried only after WASM.
 */
export async function selectBackend(requested?: string): Promise<BackendReport> {
  const notices: string[] = [];
  const preferred = BACKENDS.find((b) => b === requested);
  if (requested && !preferred)
    notices.push(`'${requested}' is not a backend (the choices are ${BACKENDS.join(', ')}); the page chose one by itself`);
  const adapter = await webgpuAdapter();
  const info = adapter ? adapter.info : null;
  const isFallback = !!info && !!(info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter;
  const softwareGl = webglIsSoftware();
  const skipped: BackendReport['skipped'] = {};
  let order: BackendName[] = softwareGl ? ['webgpu', 'wasm', 'webgl', 'cpu'] : [...BACKENDS];
  if (preferred) order = [preferred, ...order.filter((b) => b !== preferred)];
  for (const name of order) {
    if (name === 'webgpu' && !adapter) {
      skipped.webgpu = 'this browser exposes no WebGPU adapter';
      continue;
    }
    if (name === 'webgpu' && isFallback && name !== preferred) {
      skipped.webgpu = 'only a software (fallback) WebGPU adapter is available';
      continue;
    }
    const failure = name === 'wasm' ? await withWasmThreads(wasmThreadsWanted(), () => tryBackend(name)) : await tryBackend(name);
    if (failure === null) {
      let adapterName: string | null = null;
      if (name === 'webgpu' && info) adapterName = describeAdapter(info);
      if (name === 'webgl') adapterName = webglRenderer();
      const threads = name === 'wasm' ? getThreadsCount() : null;
      const threadsNote = threads === 1 ? (isolationNote() ?? 'this device reports one logical core') : null;
      const software = (name === 'webgpu' && isFallback) || (name === 'webgl' && softwareGl);
      if (software && name === preferred)
        notices.push(
          `${name} here runs on a software renderer (${adapterName ?? 'no GPU'}), many times slower than wasm: a 1000-step run can take tens of minutes; drop ?backend= to let the page choose`,
        );
      // a forced backend is said out loud: when it could not be had, and when it is the slow one
      if (preferred && name !== preferred)
        notices.push(`you asked for ${preferred}, but ${skipped[preferred] ?? 'it failed to start'}: the page runs on ${name} instead`);
      if (name === 'cpu' && preferred === 'cpu')
        notices.push(
          'cpu is plain JavaScript, many times slower than wasm: a 1000-step run takes minutes; drop ?backend= to let the page choose',
        );
      return {
        backend: name,
        adapter: adapterName,
        webgpuFallbackOnly: isFallback,
        webglSoftware: softwareGl,
        skipped,
        threads,
        threadsNote,
        notices,
      };
    }
    skipped[name] = failure;
  }
  throw new Error(`no tfjs backend works here: ${JSON.stringify(skipped)}`);
}

function webglRenderer(): string | null {
  try {
    const gl = (tf.backend() as unknown as { gpgpu?: { gl: WebGLRenderingContext } }).gpgpu?.gl;
    return gl ? rendererName(gl) : null;
  } catch {
    return null;
  }
}

/** The GPU a WebGL context renders with (the unmasked name where the browser allows it). */
function rendererName(gl: WebGLRenderingContext | WebGL2RenderingContext): string {
  const ext = gl.getExtension('WEBGL_debug_renderer_info');
  return String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
}
