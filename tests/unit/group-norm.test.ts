import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/model/layers'; // registers the model's kernels
import { registerWasmKernels } from '../../src/model/wasm-kernels';
import { installNodeWebGPU } from '../../scripts/node-webgpu';
import { checkGroupNorm, GROUP_NORM_CASES } from '../shared/group-norm-check';

registerWasmKernels();
/** Chromium's software Vulkan driver (Debian chromium): WebGPU in Node without a GPU. */
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
const adapter = process.env.VK_ICD_FILENAMES ? await installNodeWebGPU() : null;
if (adapter) await import('@tensorflow/tfjs-backend-webgpu');
afterAll(async () => {
  await tf.setBackend('cpu');
});

/** Tolerances: float32 rounding on the CPU; GPU reductions sum in another order (and exp differs). */
const TOLERANCE: Record<string, number> = { cpu: 2e-5, wasm: 2e-5, webgpu: 1e-4 };

describe.each(['cpu', 'wasm', 'webgpu'])('the GroupNorm kernel against its composite (%s)', (backend) => {
  it('WebGPU runs in Node here (Dawn on SwiftShader) whenever the Vulkan driver is installed', () => {
    if (backend === 'webgpu' && existsSync(SWIFTSHADER_ICD)) expect(adapter, 'no adapter although the SwiftShader ICD exists: is libvulkan1 installed?').not.toBeNull();
  });

  it.each(GROUP_NORM_CASES.map((c) => [c.name, c] as const))('%s: y, ∂x, ∂γ, ∂β, ∂shift; one kernel forward, a few backward; no leak', async (_name, c) => {
    if (backend === 'webgpu' && !adapter) return; // no Vulkan here: said by the test above
    expect(await tf.setBackend(backend)).toBe(true);
    const r = await checkGroupNorm(c);
    expect(r.backend).toBe(backend);
    expect(Object.keys(r.errors)).toHaveLength(c.shift ? 5 : 4);
    for (const [what, err] of Object.entries(r.errors)) expect(err, what).toBeLessThan(TOLERANCE[backend]);
    expect(r.forwardKernels).toBe(1);
    // one GROUP_NORM_GRAD, then slices, reshapes, sums and a pad for ∂γ, ∂β, ∂shift; and tf.sum's 2
    expect(r.backwardKernels).toBeLessThanOrEqual((c.shift ? 12 : 9) + 2);
    expect(r.backwardKernels).toBeLessThan(r.compositeBackwardKernels / 3);
    expect(r.leakedTensors).toBe(0);
    expect(r.validationError).toBeNull();
  });
});

describe('the GroupNorm op refuses what it cannot normalise', () => {
  it('says which shape is wrong', () => {
    const x = tf.zeros([1, 4, 4, 6]);
    const [g, b] = [tf.ones([6]), tf.zeros([6])];
    expect(() => tf.engine().runKernel('DdpmGroupNorm', [x, g, b] as unknown as tf.NamedTensorMap, { groups: 4, epsilon: 1e-5, silu: false, shiftOffset: 0 })).toThrow(/6 channels do not split into 4 groups/);
    tf.dispose([x, g, b]);
  });
});
