import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmKernels } from '../../src/model/wasm-kernels';
import { describe, expect, it } from 'vitest';
import { DDPMScheduler, GaussianRng, makeSchedule } from '../../src/diffusion';
import { DEFAULT_UNET_CONFIG, type UNetConfig } from '../../src/model/config';
import { UNet } from '../../src/model/model';
import { ddpmLoss, minSnrWeights } from '../../src/training/loss';
import { DEFAULT_SETUP, trainConfigFor } from '../../src/training/recipe';
import { Trainer, learningRateAt, emaDecayAt, DEFAULT_TRAIN_CONFIG } from '../../src/training/trainer';
import { easyBatch, expectNoLeak, values } from './helpers';

const tinyConfig: UNetConfig = { ...DEFAULT_UNET_CONFIG, imageSize: 16, baseChannels: 8, channelMults: [1, 2], groups: 4, numClasses: 2 };
const diffusion = { numTrainTimesteps: 1000, betaSchedule: 'linear' as const, predictionType: 'epsilon' as const };

describe('L_simple (Algorithm 1, eq. 14)', () => {
  it('equals the closed form ‖ε − ε_θ(√ᾱ_t x0 + √(1−ᾱ_t) ε, t)‖² for given x0, t, ε', async () => {
    const model = UNet.create(tinyConfig, 3);
    model.weights.get('conv_out.weight')!.assign(tf.randomNormal([3, 3, 8, 1], 0, 0.1, 'float32', 1));
    const schedule = makeSchedule(diffusion);
    const x0 = easyBatch();
    const rng = new GaussianRng(5);
    const noise = rng.randn(x0.shape);
    const tArr = [0, 250, 600, 999];
    const t = tf.tensor1d(tArr, 'int32');
    const labels = tf.tensor1d([0, 1, 2, 1], 'int32');
    const loss = (await values(tf.mean(ddpmLoss(model, new DDPMScheduler(diffusion), x0, t, noise, labels, false))))[0];
    // closed form, by hand: x_t per example from eq. (4), then the model, then the mean square
    const [x0v, nv] = [await values(x0), await values(noise)];
    const xt = tf.tensor4d(
      Array.from(x0v, (v, i) => {
        const ac = schedule.alphasCumprod[tArr[Math.floor(i / 256)]];
        return Math.sqrt(ac) * v + Math.sqrt(1 - ac) * nv[i];
      }),
      [4, 16, 16, 1],
    );
    const eps = await values(model.predict(xt, tf.tensor1d(tArr), { labels }));
    const expected = eps.reduce((s, e, i) => s + (nv[i] - e) ** 2, 0) / eps.length;
    expect(Math.abs(loss - expected)).toBeLessThan(1e-5 * expected);
    model.dispose();
  });
});

describe('Min-SNR-γ weighting (Hang et al. 2023)', () => {
  it("weighs each timestep by min(SNR_t, γ) / SNR_t, as diffusers' compute_snr recipe does for ε", () => {
    const schedule = makeSchedule(diffusion);
    const snr = (t: number) => schedule.alphasCumprod[t] / (1 - schedule.alphasCumprod[t]);
    const w = minSnrWeights(schedule, [0, 50, 100, 500, 999], 5);
    // t = 0: SNR = (1 − 10⁻⁴) / 10⁻⁴ ≈ 9999, so the nearly clean step counts 5 / 9999
    expect(w[0]).toBeCloseTo(5 / 9999, 7);
    expect(w[1]).toBeCloseTo(5 / snr(50), 7);
    // the noisy steps (SNR ≤ γ) keep weight 1
    expect(snr(500)).toBeLessThan(5);
    expect([...w.slice(3)]).toEqual([1, 1]);
    // the crossing: the first t whose SNR is at most γ has weight 1, the one before less
    const cross = Array.from({ length: 1000 }, (_, t) => t).find((t) => snr(t) <= 5)!;
    const [before, at] = minSnrWeights(schedule, [cross - 1, cross], 5);
    expect(before).toBeLessThan(1);
    expect(at).toBe(1);
  });

  it('the training step minimises the weighted mean of the per-example losses', async () => {
    await tf.setBackend('wasm');
    const four = easyBatch();
    const x0 = tf.concat([four, four, four, four]); // 16 draws of t
    four.dispose();
    const step = async (minSnrGamma?: number) => {
      const model = UNet.create(tinyConfig, 1);
      const trainer = new Trainer(model, diffusion, { ...DEFAULT_TRAIN_CONFIG, minSnrGamma }, new GaussianRng(3));
      const r = await trainer.trainStep(
        x0,
        Array.from({ length: 16 }, (_, i) => i % 2),
      );
      trainer.dispose();
      model.dispose();
      return r;
    };
    const plain = await step();
    const weighted = await step(5);
    // the same seed draws the same t, ε and the same per-example losses; only their weights differ
    expect([...weighted.timesteps]).toEqual([...plain.timesteps]);
    const mean = (xs: ArrayLike<number>) => Array.from(xs).reduce((s, x) => s + x, 0) / xs.length;
    expect(plain.loss).toBeCloseTo(mean(plain.losses), 6);
    const w = minSnrWeights(makeSchedule(diffusion), weighted.timesteps, 5);
    expect(weighted.loss).toBeCloseTo(mean(Array.from(weighted.losses, (l, i) => l * w[i])), 6);
    expect(w.some((wi) => wi < 0.99)).toBe(true); // the draw hit a clean step, so the test tells the two apart
    x0.dispose();
    await tf.setBackend('cpu');
  });

  it("is the page's recipe for a new model, and a fine-tune keeps L_simple (measured side by side: docs/quality.md, docs/colour.md)", () => {
    expect(trainConfigFor(DEFAULT_SETUP).minSnrGamma).toBe(5);
    expect(trainConfigFor({ ...DEFAULT_SETUP, init: 'small' }).minSnrGamma).toBe(5);
    expect(trainConfigFor({ ...DEFAULT_SETUP, init: 'shipped' }).minSnrGamma ?? 0).toBe(0);
  });
});

registerWasmKernels();

describe('Trainer', () => {
  it('warms the learning rate up linearly', () => {
    const c = { ...DEFAULT_TRAIN_CONFIG, learningRate: 1e-3, warmupSteps: 10 };
    expect(learningRateAt(c, 0)).toBeCloseTo(1e-4, 12);
    expect(learningRateAt(c, 4)).toBeCloseTo(5e-4, 12);
    expect(learningRateAt(c, 10)).toBe(1e-3);
  });

  it('EMA decay warms up as min(d, (1 + n)/(10 + n))', () => {
    expect(emaDecayAt(0.999, 0)).toBeCloseTo(0.1, 12);
    expect(emaDecayAt(0.999, 90)).toBeCloseTo(0.91, 12);
    expect(emaDecayAt(0.999, 100_000)).toBe(0.999);
  });

  it('EMA update is exact: θ_ema ← d θ_ema + (1 − d) θ', async () => {
    await tf.setBackend('wasm');
    const model = UNet.create(tinyConfig, 1);
    const trainer = new Trainer(model, diffusion, { ...DEFAULT_TRAIN_CONFIG, emaDecay: 0.9 });
    const x0 = easyBatch();
    for (let i = 0; i < 100; i++) await trainer.trainStep(x0, [0, 1, 0, 1]); // past the warm-up: d = 0.9
    const before = await values(model.weights.get('conv_in.weight')!);
    const emaBefore = await values(trainer.ema!.weights.get('conv_in.weight')!);
    await trainer.trainStep(x0, [0, 1, 0, 1]);
    const after = await values(model.weights.get('conv_in.weight')!);
    const ema = await values(trainer.ema!.weights.get('conv_in.weight')!);
    expect(after).not.toEqual(before);
    for (let i = 0; i < ema.length; i++) expect(ema[i]).toBeCloseTo(0.9 * emaBefore[i] + 0.1 * after[i], 6);
    trainer.dispose();
    model.dispose();
    await tf.setBackend('cpu');
  });

  // cpu's Conv2DBackpropFilter is a naive loop, so its model is narrower; wasm uses ./wasm-kernels
  it.each([
    ['wasm', 8],
    ['cpu', 4],
  ] as const)('a few dozen Adam steps on a tiny fixed batch clearly reduce the loss (%s)', async (backend, width) => {
    await tf.setBackend(backend);
    const model = UNet.create({ ...tinyConfig, numClasses: 0, baseChannels: width, groups: width / 2 }, 0);
    const trainer = new Trainer(
      model,
      diffusion,
      { ...DEFAULT_TRAIN_CONFIG, learningRate: 3e-3, warmupSteps: 5, emaDecay: 0 },
      new GaussianRng(1),
    );
    const x0 = easyBatch();
    const forward = new DDPMScheduler(diffusion);
    // held-fixed evaluation: 4 copies of the batch at 16 timesteps spread over [0, T)
    const evalX0 = tf.concat([x0, x0, x0, x0]);
    const evalT = tf.tensor1d(
      Array.from({ length: 16 }, (_, i) => 30 + i * 60),
      'int32',
    );
    const evalNoise = new GaussianRng(99).randn(evalX0.shape);
    const evalLoss = async () => (await values(tf.mean(ddpmLoss(model, forward, evalX0, evalT, evalNoise, undefined, false))))[0];
    const start = await evalLoss();
    for (let i = 0; i < 40; i++) await trainer.trainStep(x0);
    const end = await evalLoss();
    expect(start).toBeGreaterThan(0.9);
    expect(end).toBeLessThan(0.5 * start);
    tf.dispose([x0, evalX0, evalT, evalNoise]);
    trainer.dispose();
    model.dispose();
    await tf.setBackend('cpu');
  });

  it('does not leak tensors over many training steps (wasm)', async () => {
    await tf.setBackend('wasm');
    const model = UNet.create(tinyConfig, 0);
    const trainer = new Trainer(model, diffusion);
    const x0 = easyBatch();
    await trainer.trainStep(x0, [0, 1, 0, 1]); // optimizer slots are created on the first step
    await expectNoLeak(async () => {
      for (let i = 0; i < 100; i++) await trainer.trainStep(x0, [0, 1, 0, 1]);
    });
    trainer.dispose();
    model.dispose();
    await tf.setBackend('cpu');
  });
});
