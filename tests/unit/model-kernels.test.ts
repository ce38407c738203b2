import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/model/layers'; // registers the model's kernels
import { registerWasmKernels } from '../../src/model/wasm-kernels';
import { installNodeWebGPU } from '../../scripts/node-webgpu';
import { parity } from '../../bench/gpu-phases';
import { loadModel } from '../../src/model/io';
import { fileHandler } from '../../scripts/node-io';
import { checkGroupNorm, GROUP_NORM_CASES } from '../shared/group-norm-check';
import { checkTimestepEmbedding } from '../shared/timestep-embedding-check';

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
    if (backend === 'webgpu' && existsSync(SWIFTSHADER_ICD))
      expect(adapter, 'no adapter although the SwiftShader ICD exists: is libvulkan1 installed?').not.toBeNull();
  });

  it.each(GROUP_NORM_CASES.map((c) => [c.name, c] as const))(
    '%s: y, ∂x, ∂γ, ∂β, ∂shift; one kernel forward, a few backward; no leak',
    async (_name, c) => {
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
    },
  );
});

describe.each(['cpu', 'wasm', 'webgpu'])('the timestep embedding (%s)', (backend) => {
  it('is sin/cos of the float32 argument t·f_i to float32 rounding, for every t < 1000; one kernel', async () => {
    if (backend === 'webgpu' && !adapter) return;
    expect(await tf.setBackend(backend)).toBe(true);
    const r = await checkTimestepEmbedding();
    expect(r.backend).toBe(backend);
    // one float32 rounding (6e-8); GPU sin/cos err by up to 1.9e-4 here, hence the kernel
    expect(r.maxError).toBeLessThan(2e-7);
    expect(r.kernels).toBe(1);
    expect(r.leakedTensors).toBe(0);
  });
});

describe('PyTorch parity on WebGPU in Node (Dawn)', () => {
  it.each([
    ['mnist-like', 'tests/fixtures/parity/mnist-like', 'tests/fixtures/parity/mnist-like/io.json'],
    ['shipped-mnist', 'public/models/mnist', 'tests/fixtures/parity/shipped-mnist-io.json'],
  ])('%s: the tfjs U-Net on webgpu gives PyTorch’s outputs within 1e-4', async (_name, dir, ioPath) => {
    if (!adapter) return;
    await tf.setBackend('webgpu');
    const { model } = await loadModel(fileHandler(dir));
    const { maxAbsError } = await parity(model, ioPath);
    expect(maxAbsError).toBeLessThanOrEqual(1e-4); // 3.7e-6 here for the shipped model (1.3e-4 with the GPU's own sin/cos)
    model.dispose();
  });
});

describe('the GroupNorm op refuses what it cannot normalise', () => {
  it('says which shape is wrong', () => {
    const x = tf.zeros([1, 4, 4, 6]);
    const [g, b] = [tf.ones([6]), tf.zeros([6])];
    expect(() =>
      tf
        .engine()
        .runKernel('DdpmGroupNorm', [x, g, b] as unknown as tf.NamedTensorMap, { groups: 4, epsilon: 1e-5, silu: false, shiftOffset: 0 }),
    ).toThrow(/6 channels do not split into 4 groups/);
    tf.dispose([x, g, b]);
  });
});
