import { createRequire } from 'node:module';

/**
 * WebGPU in Node through Dawn (npm `webgpu`): installs the WebGPU globals and `navigator.gpu` that
 * tfjs-backend-webgpu expects, then asks for an adapter. Must run before
 * '@tensorflow/tfjs-backend-webgpu' is imported (it registers its backend at import).
 * Without a GPU, Chromium's SwiftShader Vulkan driver gives a (slow) software adapter:
 *   VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json
 * Returns the adapter's description, or null when there is none (no Vulkan loader, driver or GPU).
 */
export async function installNodeWebGPU(): Promise<GPUAdapter | null> {
  const g = globalThis as unknown as { navigator?: { gpu?: GPU } };
  if (!g.navigator?.gpu) {
    process.env.XDG_RUNTIME_DIR ??= '/tmp'; // Vulkan loaders complain without it
    // createRequire: the package is a native addon; keep it out of any bundle's static graph
    const { create, globals } = createRequire(import.meta.url)('webgpu') as {
      create: (flags: string[]) => GPU;
      globals: Record<string, unknown>;
    };
    Object.assign(globalThis, globals);
    const gpu = create((process.env.DAWN_FLAGS ?? '').split(',').filter(Boolean));
    if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
    else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  }
  try {
    return await g.navigator!.gpu!.requestAdapter({ powerPreference: 'high-performance' });
  } catch {
    return null;
  }
}

/** One line naming the adapter, e.g. "nvidia hopper" or "google swiftshader (software fallback)". */
export function describeNodeAdapter(adapter: GPUAdapter): string {
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const name = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') || 'unknown adapter';
  return info.isFallbackAdapter ? `${name} (software fallback)` : name;
}

/** What to say when there is no adapter. */
export const NO_ADAPTER_MESSAGE =
  'no WebGPU adapter: Dawn (npm webgpu) found no Vulkan GPU. Install the GPU driver and the Vulkan loader (Debian: libvulkan1), ' +
  "or, to test without a GPU, use Chromium's software driver: VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json";
