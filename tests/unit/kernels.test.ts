import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { countKernels } from '../../bench/kernels';
import { DEFAULT_UNET_CONFIG } from '../../src/model/config';
import { registerWasmKernels } from '../../src/model/wasm-kernels';

registerWasmKernels();
afterAll(async () => {
  await tf.setBackend('cpu');
});

/**
 * Kernel budgets of the shipped architecture (counts, not times: deterministic). Each engine kernel
 * costs a fixed overhead on wasm and a dispatch on a GPU, so a change that adds many fails here.
 * History: 405 / 4,492 at first; 315 / 1,474 with the fused optimizer, the hand-derived GroupNorm
 * gradient and fused conv bias; 80 / 949 with GroupNorm (+ SiLU, + the timestep shift) as one kernel
 * forward and one backward, the sinusoidal embedding as one kernel, all blocks' timestep projections
 * in one matMul, pooling and upsampling as single kernels (issue 12's target: ≤ 90 per forward pass).
 */
const BUDGET = { forward: 90, trainStep: 1000 };

describe('kernel budget of the shipped U-Net', () => {
  it(`a forward pass runs ≤ ${BUDGET.forward} kernels and a training step ≤ ${BUDGET.trainStep}`, async () => {
    await tf.setBackend('wasm');
    const counted = await countKernels('shipped', DEFAULT_UNET_CONFIG);
    console.log(`kernels: forward ${counted.forward}, training step ${counted.trainStep}`, counted.trainStepByKernel);
    expect(counted.forward).toBeLessThanOrEqual(BUDGET.forward);
    expect(counted.trainStep).toBeLessThanOrEqual(BUDGET.trainStep);
    // the optimizer is a handful of kernels on flat buffers, not a dozen per weight (105 weights here)
    expect(counted.trainStepByKernel.Sqrt ?? 0).toBeLessThanOrEqual(3);
    // every GroupNorm is one kernel each way: 17 norms, so 17 forward and 17 backward, no composite
    expect(counted.trainStepByKernel.DdpmGroupNorm).toBe(17);
    expect(counted.trainStepByKernel.DdpmGroupNormGrad).toBe(17);
    expect(counted.trainStepByKernel.Rsqrt ?? 0).toBe(0);
  });
});
