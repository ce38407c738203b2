import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { DDPMScheduler, GaussianRng } from '../../src/diffusion';
import { DEFAULT_UNET_CONFIG, type UNetConfig } from '../../src/model/config';
import { UNet } from '../../src/model/model';
import { registerWasmKernels } from '../../src/model/wasm-kernels';
import { restoreTrainer, saveCheckpoint, type TrainingCheckpoint } from '../../src/training/checkpoint';
import { FlatLayout, FusedAdam } from '../../src/training/fused-optimizer';
import { ddpmLoss } from '../../src/training/loss';
import { DEFAULT_TRAIN_CONFIG, Trainer, emaDecayAt, learningRateAt, type TrainConfig } from '../../src/training/trainer';
import { easyBatch, expectNoLeak, values } from './helpers';

registerWasmKernels();
afterAll(async () => {
  await tf.setBackend('cpu');
});

const diffusion = { numTrainTimesteps: 1000, betaSchedule: 'linear' as const, predictionType: 'epsilon' as const };
// cpu's own Conv2DBackpropFilter is a naive loop: a narrow model keeps the cpu runs short
const config: UNetConfig = { ...DEFAULT_UNET_CONFIG, imageSize: 16, baseChannels: 4, channelMults: [1, 2], groups: 2, numClasses: 2 };
const trainConfig: TrainConfig = { ...DEFAULT_TRAIN_CONFIG, learningRate: 2e-3, warmupSteps: 5, emaDecay: 0.9, gradClipNorm: 1 };
const LABELS = [0, 1, 0, 1];

/**
 * The trainer as it was before the fused optimizer, step for step: tfjs' own tf.train.adam over every
 * variable, the global norm summed weight by weight, clipping and the EMA per weight. Same random
 * draws in the same order (t, label dropout, then ε), so the two must agree to float rounding.
 */
class PerVariableTrainer {
  readonly optimizer: tf.AdamOptimizer;
  readonly ema: UNet;
  readonly forward = new DDPMScheduler(diffusion);
  step = 0;
  constructor(
    readonly model: UNet,
    readonly c: TrainConfig,
    readonly rng: GaussianRng,
  ) {
    this.optimizer = tf.train.adam(c.learningRate, 0.9, 0.999, 1e-8);
    this.ema = UNet.create(model.config);
    model.copyTo(this.ema);
  }
  async trainStep(x0: tf.Tensor, labels: number[]): Promise<number> {
    const T = diffusion.numTrainTimesteps;
    const tArr = Int32Array.from({ length: x0.shape[0] }, () => Math.min(T - 1, Math.floor(this.rng.uniform() * T)));
    const dropped = labels.map((l) => (this.rng.uniform() < this.c.labelDropout ? this.model.config.numClasses : l));
    (this.optimizer as unknown as { learningRate: number }).learningRate = learningRateAt(this.c, this.step);
    const vars = [...this.model.weights.values()];
    const loss = tf.tidy(() => {
      const t = tf.tensor1d(tArr, 'int32');
      const noise = this.rng.randn(x0.shape);
      const y = tf.tensor1d(dropped, 'int32');
      const { value, grads } = tf.variableGrads(() => tf.mean<tf.Scalar>(ddpmLoss(this.model, this.forward, x0, t, noise, y)), vars);
      const names = Object.keys(grads);
      const norm = tf.sqrt(names.reduce<tf.Tensor>((acc, n) => tf.add(acc, tf.sum(tf.square(grads[n]))), tf.scalar(0)));
      const scale = tf.minimum(1, tf.div(this.c.gradClipNorm, tf.add(norm, 1e-6)));
      this.optimizer.applyGradients(names.map((name) => ({ name, tensor: tf.mul(grads[name], scale) })));
      return value;
    });
    const d = emaDecayAt(this.c.emaDecay, this.step);
    tf.tidy(() => {
      for (const [name, v] of this.model.weights) {
        const e = this.ema.weights.get(name)!;
        e.assign(tf.add(tf.mul(e, d), tf.mul(v, 1 - d)));
      }
    });
    this.step++;
    const value = (await loss.data())[0];
    loss.dispose();
    return value;
  }
  dispose(): void {
    this.optimizer.dispose();
    this.ema.dispose();
    this.model.dispose();
  }
}

const maxRelative = (a: Float32Array, b: Float32Array): number => {
  let err = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    err = Math.max(err, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return err / scale;
};

describe('FlatLayout', () => {
  it('flattens in order and unflattens back to the same shapes and values', async () => {
    const a = tf.tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const b = tf.tensor([7]);
    const c = tf.tensor([[[8, 9]], [[10, 11]]]);
    const layout = new FlatLayout(['a', 'b', 'c'], [a.shape, b.shape, c.shape]);
    expect(layout.size).toBe(11);
    const flat = layout.flatten([a, b, c]);
    expect(Array.from(await values(flat))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    const back = layout.unflatten(flat);
    expect(back.map((t) => t.shape)).toEqual([a.shape, b.shape, c.shape]);
    expect(Array.from(await values(back[2]))).toEqual([8, 9, 10, 11]);
    expect(() => layout.flatten([a, b])).toThrow(/2 tensors for a layout of 3/);
    tf.dispose([a, b, c, flat, ...back]);
  });
});

describe('the fused optimizer step', () => {
  it.each(['cpu', 'wasm'] as const)('gives the same 20 losses, weights and EMA as the per-variable Adam (%s)', async (backend) => {
    await tf.setBackend(backend);
    const x0 = easyBatch();
    const fused = new Trainer(UNet.create(config, 7), diffusion, trainConfig, new GaussianRng(3));
    const reference = new PerVariableTrainer(UNet.create(config, 7), trainConfig, new GaussianRng(3));
    const clipped: boolean[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await fused.trainStep(x0, LABELS);
      const expected = await reference.trainStep(x0, LABELS);
      clipped.push(r.gradNorm > trainConfig.gradClipNorm);
      expect(Math.abs(r.loss - expected), `step ${i + 1}: ${r.loss} vs ${expected}`).toBeLessThanOrEqual(1e-5 * expected);
    }
    expect(clipped).toContain(true); // the clipping branch was exercised…
    expect(clipped).toContain(false); // …and so was the unclipped one
    for (const name of ['conv_in.weight', 'down.1.0.conv2.weight', 'label_emb.weight', 'conv_out.bias']) {
      expect(
        maxRelative(await values(fused.model.weights.get(name)!), await values(reference.model.weights.get(name)!)),
        name,
      ).toBeLessThan(1e-4);
      expect(
        maxRelative(await values(fused.ema!.weights.get(name)!), await values(reference.ema.weights.get(name)!)),
        `ema ${name}`,
      ).toBeLessThan(1e-4);
    }
    fused.dispose();
    fused.model.dispose();
    reference.dispose();
    x0.dispose();
  });

  it('updates every weight in a fixed number of kernels, whatever the number of weights (wasm)', async () => {
    await tf.setBackend('wasm');
    const kernelsFor = async (n: number) => {
      const shapes = Array.from({ length: n }, (_, i) => [3, 1 + (i % 4)]);
      const params = shapes.map((s) => tf.randomNormal(s));
      const grads = shapes.map((s) => tf.randomNormal(s));
      const adam = new FusedAdam(
        new FlatLayout(
          shapes.map((_, i) => `w${i}`),
          shapes,
        ),
        params,
      );
      const profile = await tf.profile(() => {
        adam.step(grads, 1e-3, 1).dispose();
      });
      adam.dispose();
      tf.dispose([...params, ...grads]);
      const names = profile.kernels.map((k) => k.name);
      // one Reshape per weight to flatten its gradient (no copy); everything else is on the flat buffers
      expect(names.filter((k) => k === 'Reshape')).toHaveLength(n);
      return names.filter((k) => k !== 'Reshape').length;
    };
    const few = await kernelsFor(5);
    expect(await kernelsFor(105)).toBe(few);
    expect(few).toBeLessThanOrEqual(25);
  });

  it('leaks nothing across steps, checkpoints and restores', async () => {
    await tf.setBackend('wasm');
    const x0 = easyBatch();
    const trainer = new Trainer(UNet.create(config, 1), diffusion, trainConfig);
    await trainer.trainStep(x0, LABELS);
    await expectNoLeak(async () => {
      for (let i = 0; i < 20; i++) await trainer.trainStep(x0, LABELS);
      trainer.ema!.weights.get('conv_in.weight'); // refreshes the EMA model from the flat buffer
      const again = await restoreTrainer(await saveCheckpoint(trainer));
      await again.trainStep(x0, LABELS);
      again.dispose();
      again.model.dispose();
    });
    trainer.dispose();
    trainer.model.dispose();
    x0.dispose();
  });
});

describe('checkpoints saved before the fused optimizer', () => {
  it('still load and resume to the losses the per-variable trainer went on to (wasm)', async () => {
    await tf.setBackend('wasm');
    const dir = 'tests/fixtures/checkpoint-v1';
    const fixture = JSON.parse(readFileSync(`${dir}/checkpoint.json`, 'utf8')) as {
      checkpoint: Omit<TrainingCheckpoint, 'data'>;
      nextLosses: number[];
      convInAfter: number[];
      emaConvInAfter: number[];
    };
    const bytes = readFileSync(`${dir}/checkpoint.bin`);
    const data = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const trainer = await restoreTrainer({ ...fixture.checkpoint, data });
    expect(trainer.step).toBe(4);
    const x0 = easyBatch();
    for (const expected of fixture.nextLosses) {
      const { loss } = await trainer.trainStep(x0, LABELS);
      expect(Math.abs(loss - expected)).toBeLessThanOrEqual(1e-5 * expected);
    }
    const convIn = await values(trainer.model.weights.get('conv_in.weight')!);
    const ema = await values(trainer.ema!.weights.get('conv_in.weight')!);
    expect(maxRelative(convIn, Float32Array.from(fixture.convInAfter))).toBeLessThan(1e-5);
    expect(maxRelative(ema, Float32Array.from(fixture.emaConvInAfter))).toBeLessThan(1e-5);
    trainer.dispose();
    trainer.model.dispose();
    x0.dispose();
  });
});
