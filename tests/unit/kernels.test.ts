import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { countKernels } from '../../bench/bench';
import { DEFAULT_UNET_CONFIG } from '../../src/model/config';
import { registerWasmKernels } from '../../src/model/wasm-kernels';

registerWasmKernels();
afterAll(async () => {
  await tf.setBackend('cpu');
});

/**
 * Kernel budgets of the shipped architecture (counts, not times: deterministic). Each engine kernel
 * costs a fixed overhead on wasm and a dispatch on a GPU, so a change that adds many fails here.
 * Before the fused optimizer, the GroupNorm gradient and the fused conv bias: 405 and 4,492.
 */
const BUDGET = { forward: 320, trainStep: 1480 };

describe('kernel budget of the shipped U-Net', () => {
  it(`a forward pass runs ≤ ${BUDGET.forward} kernels and a training step ≤ ${BUDGET.trainStep}`, async () => {
    await tf.setBackend('wasm');
    const counted = await countKernels('shipped', DEFAULT_UNET_CONFIG);
    console.log(`kernels: forward ${counted.forward}, training step ${counted.trainStep}`, counted.trainStepByKernel);
    expect(counted.forward).toBeLessThanOrEqual(BUDGET.forward);
    expect(counted.trainStep).toBeLessThanOrEqual(BUDGET.trainStep);
    // the optimizer is a handful of kernels on flat buffers, not a dozen per weight (105 weights here)
    expect(counted.trainStepByKernel.Sqrt ?? 0).toBeLessThanOrEqual(3);
  });
});
