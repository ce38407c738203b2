import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GaussianRng } from '../../src/diffusion';
import { DEFAULT_UNET_CONFIG } from '../../src/model/config';
import { UNet } from '../../src/model/model';
import { registerWasmKernels } from '../../src/model/wasm-kernels';
import { CheckpointError, restoreTrainer, saveCheckpoint } from '../../src/training/checkpoint';
import { DEFAULT_TRAIN_CONFIG, Trainer } from '../../src/training/trainer';
import { easyBatch } from './helpers';

const config = { ...DEFAULT_UNET_CONFIG, imageSize: 16, baseChannels: 8, channelMults: [1, 2], groups: 4, numClasses: 2 };
const diffusion = { numTrainTimesteps: 1000, betaSchedule: 'linear' as const, predictionType: 'epsilon' as const };

beforeAll(async () => {
  registerWasmKernels();
  await tf.setBackend('wasm');
});
afterAll(async () => {
  await tf.setBackend('cpu');
});

describe('training checkpoints', () => {
  it('save → load → continue gives the same next losses as not stopping', async () => {
    const x0 = easyBatch();
    const labels = [0, 1, 0, 1];
    const trainer = new Trainer(UNet.create(config, 1), diffusion, { ...DEFAULT_TRAIN_CONFIG, warmupSteps: 3 }, new GaussianRng(5));
    for (let i = 0; i < 4; i++) await trainer.trainStep(x0, labels);
    const ckpt = structuredClone(await saveCheckpoint(trainer)); // as IndexedDB would store it
    const straight: number[] = [];
    for (let i = 0; i < 3; i++) straight.push((await trainer.trainStep(x0, labels)).loss);

    const resumed = await restoreTrainer(ckpt);
    expect(resumed.step).toBe(4);
    expect(resumed.lossHistory.length).toBe(4);
    const again: number[] = [];
    for (let i = 0; i < 3; i++) again.push((await resumed.trainStep(x0, labels)).loss);
    expect(again).toEqual(straight);
    const [a, b] = [await trainer.ema!.weights.get('conv_in.weight')!.data(), await resumed.ema!.weights.get('conv_in.weight')!.data()];
    expect(Array.from(b)).toEqual(Array.from(a));
    for (const t of [trainer, resumed]) {
      t.dispose();
      t.model.dispose();
    }
    x0.dispose();
  });

  it('a checkpoint taken before any step restores too, and garbage is refused', async () => {
    const trainer = new Trainer(UNet.create(config, 2), diffusion);
    const resumed = await restoreTrainer(await saveCheckpoint(trainer));
    expect(resumed.step).toBe(0);
    await expect(restoreTrainer({ format: 'nope' } as never)).rejects.toThrow(CheckpointError);
    for (const t of [trainer, resumed]) {
      t.dispose();
      t.model.dispose();
    }
  });

  it('saving and restoring leaks no tensors', async () => {
    const trainer = new Trainer(UNet.create(config, 3), diffusion);
    const x0 = easyBatch();
    await trainer.trainStep(x0, [0, 1, 1, 0]);
    const before = tf.memory().numTensors;
    const resumed = await restoreTrainer(await saveCheckpoint(trainer));
    await resumed.trainStep(x0, [0, 1, 1, 0]);
    resumed.dispose();
    resumed.model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    trainer.dispose();
    trainer.model.dispose();
    x0.dispose();
  });
});
