import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_UNET_CONFIG, validateUNetConfig, type UNetConfig } from '../../src/model/config';
import { fromArtifacts, loadModel, ModelLoadError, toArtifacts } from '../../src/model/io';
import { UNet } from '../../src/model/model';
import { fileHandler } from '../../scripts/node-io';
import { expectNoLeak, values } from './helpers';

const tiny = (over: Partial<UNetConfig> = {}): UNetConfig => ({
  ...DEFAULT_UNET_CONFIG,
  imageSize: 16,
  baseChannels: 8,
  channelMults: [1, 2],
  groups: 4,
  numClasses: 0,
  ...over,
});
const diffusion = { numTrainTimesteps: 1000, betaSchedule: 'linear' as const, predictionType: 'epsilon' as const };

/** A model whose output is not trivially zero (conv_out starts at zero by design). */
function withLiveOutput(model: UNet, seed = 1): UNet {
  model.weights.get('conv_out.weight')!.assign(tf.randomNormal(model.weights.get('conv_out.weight')!.shape, 0, 0.1, 'float32', seed));
  return model;
}

describe('U-Net shapes', () => {
  for (const imageSize of [16, 28, 32, 64]) {
    for (const inChannels of [1, 3]) {
      it(`${imageSize}×${imageSize}×${inChannels}: output shape equals input shape`, () => {
        const mults = imageSize === 28 ? [1, 2, 2] : [1, 2, 2, 2];
        const model = UNet.create(tiny({ imageSize, inChannels, channelMults: mults }));
        const x = tf.randomNormal([2, imageSize, imageSize, inChannels]);
        const y = model.predict(x, tf.tensor1d([5, 500]));
        expect(y.shape).toEqual([2, imageSize, imageSize, inChannels]);
        tf.dispose([x, y]);
        model.dispose();
      });
    }
  }

  it('the 28×28 default needs no padding: 28 → 14 → 7', () => {
    expect(() => validateUNetConfig({ ...DEFAULT_UNET_CONFIG })).not.toThrow();
    expect(() => validateUNetConfig({ ...DEFAULT_UNET_CONFIG, channelMults: [1, 2, 2, 2] })).toThrow(/cannot be halved/);
  });

  it('starts at zero output (zero-initialised last conv), so the DDPM loss starts at ≈ 1', async () => {
    const model = UNet.create(tiny());
    const x = tf.randomNormal([2, 16, 16, 1]);
    const y = model.predict(x, tf.tensor1d([1, 2]));
    expect(Math.max(...(await values(tf.abs(y))))).toBe(0);
    model.dispose();
  });

  it('rejects inputs of the wrong shape with a clear message', () => {
    const model = UNet.create(tiny());
    expect(() => model.predict(tf.zeros([1, 28, 28, 1]), tf.tensor1d([1]))).toThrow(/\[B, 16, 16, 1\]/);
    expect(() => model.predict(tf.zeros([2, 16, 16, 1]), tf.tensor1d([1]))).toThrow(/one timestep per image/);
    model.dispose();
  });
});

describe('U-Net conditioning', () => {
  it('the timestep changes the output', async () => {
    const model = withLiveOutput(UNet.create(tiny()));
    const x = tf.randomNormal([1, 16, 16, 1], 0, 1, 'float32', 3);
    const a = await values(model.predict(x, tf.tensor1d([10])));
    const b = await values(model.predict(x, tf.tensor1d([900])));
    const diff = a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
    expect(diff).toBeGreaterThan(1e-3);
    model.dispose();
  });

  it('the label changes the output when conditional; no label = the null index', async () => {
    const model = withLiveOutput(UNet.create(tiny({ numClasses: 10 })));
    const x = tf.randomNormal([1, 16, 16, 1], 0, 1, 'float32', 3);
    const t = tf.tensor1d([300]);
    const y3 = await values(model.predict(x, t, { labels: tf.tensor1d([3], 'int32') }));
    const y7 = await values(model.predict(x, t, { labels: tf.tensor1d([7], 'int32') }));
    const yNull = await values(model.predict(x, t, { labels: tf.tensor1d([10], 'int32') }));
    const yNone = await values(model.predict(x, t));
    expect(y3.reduce((m, v, i) => Math.max(m, Math.abs(v - y7[i])), 0)).toBeGreaterThan(1e-3);
    expect(Array.from(yNone)).toEqual(Array.from(yNull));
    expect(model.weights.get('label_emb.weight')!.shape).toEqual([11, 32]);
    model.dispose();
  });
});

describe('U-Net memory', () => {
  it('repeated forward passes do not leak tensors', async () => {
    const model = UNet.create(tiny({ attention: true, numClasses: 4, downsample: 'conv', numResBlocks: 2 }));
    const x = tf.randomNormal([2, 16, 16, 1]);
    const t = tf.tensor1d([1, 2]);
    const labels = tf.tensor1d([0, 4], 'int32');
    model.predict(x, t, { labels }).dispose();
    await expectNoLeak(async () => {
      for (let i = 0; i < 5; i++) {
        const y = model.predict(x, t, { labels, training: true });
        await y.data();
        y.dispose();
      }
    });
    tf.dispose([x, t, labels]);
    model.dispose();
  });
});

describe('U-Net serialisation', () => {
  it('save → load round-trip gives identical outputs (memory and disk)', async () => {
    const model = withLiveOutput(UNet.create(tiny({ numClasses: 3, attention: true })));
    const x = tf.randomNormal([2, 16, 16, 1], 0, 1, 'float32', 9);
    const t = tf.tensor1d([3, 700]);
    const labels = tf.tensor1d([1, 3], 'int32');
    const before = await values(model.predict(x, t, { labels }));
    const fromMemory = fromArtifacts(await toArtifacts(model, diffusion, { note: 'hi' }));
    expect(fromMemory.metadata).toEqual({ note: 'hi' });
    expect(fromMemory.diffusion).toEqual(diffusion);
    expect(Array.from(await values(fromMemory.model.predict(x, t, { labels })))).toEqual(Array.from(before));
    const dir = `${process.env.TMPDIR ?? '/tmp'}/ddpm-unet-${process.pid}`;
    await fileHandler(dir).save!(await toArtifacts(model, diffusion));
    const fromDisk = await loadModel(fileHandler(dir));
    expect(fromDisk.model.config).toEqual(model.config);
    expect(Array.from(await values(fromDisk.model.predict(x, t, { labels })))).toEqual(Array.from(before));
    [model, fromMemory.model, fromDisk.model].forEach((m) => m.dispose());
  });

  it('weights whose shapes do not match the config fail, naming the first mismatching tensor', async () => {
    const model = UNet.create(tiny());
    const artifacts = await toArtifacts(model, diffusion);
    const wider = { ...artifacts, modelTopology: { unet: tiny({ baseChannels: 16 }), diffusion } };
    expect(() => fromArtifacts(wider)).toThrow(ModelLoadError);
    expect(() => fromArtifacts(wider)).toThrow(/weight 'time_mlp1.weight' has shape \[8,32\] in the file, but the config needs \[16,64\]/);
    const truncated = { ...artifacts, weightData: (artifacts.weightData as ArrayBuffer).slice(0, 100) };
    expect(() => fromArtifacts(truncated)).toThrow(/truncated/);
    const missing = { ...artifacts, weightSpecs: artifacts.weightSpecs!.slice(1) };
    expect(() => fromArtifacts(missing)).toThrow(/'time_mlp1.weight' .* is missing/);
    expect(() => fromArtifacts({ ...artifacts, format: 'layers-model' })).toThrow(/not a DDPM Playground model/);
    expect(() => fromArtifacts({ ...artifacts, modelTopology: { unet: { ...tiny(), groups: 0 }, diffusion } })).toThrow(/groups/);
    model.dispose();
  });

  it('reads the committed fixture files (the format tools/torch writes)', async () => {
    const json = JSON.parse(readFileSync('tests/fixtures/parity/mnist-like/model.json', 'utf8')) as { format: string };
    expect(json.format).toBe('ddpm-playground-unet');
    const loaded = await loadModel(fileHandler('tests/fixtures/parity/mnist-like'));
    expect(loaded.model.config.numClasses).toBe(10);
    loaded.model.dispose();
  });
});
