import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageDataset } from '../../src/data/dataset';
import { GaussianRng } from '../../src/diffusion';
import { fromArtifacts, toArtifacts } from '../../src/model/io';
import { UNet } from '../../src/model/model';
import { registerWasmKernels } from '../../src/model/wasm-kernels';
import { buildVocabulary, tokenize } from '../../src/text/tokenizer';
import { textPresetConfig } from '../../src/training/presets';
import { TrainingSession, type RunOptions } from '../../src/training/session';
import { DEFAULT_TRAIN_CONFIG, Trainer } from '../../src/training/trainer';
import type { TrainingCheckpoint } from '../../src/training/checkpoint';
import { shapePixels } from '../fixtures/images';
import { expectNoLeak } from './helpers';

/** Training the text-conditioned U-Net on captioned pictures (issue 25 item 4): the step, caption dropout, the run, its files. */
const diffusion = { numTrainTimesteps: 1000, betaSchedule: 'linear' as const, predictionType: 'epsilon' as const };
const trainConfig = { ...DEFAULT_TRAIN_CONFIG, learningRate: 3e-3, warmupSteps: 5, emaDecay: 0.9 };
const run = (o: Partial<RunOptions> = {}): RunOptions => ({
  batchSize: 8,
  totalSteps: 40,
  flip: false,
  previewEvery: 0,
  checkpointEvery: 10,
  ...o,
});
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Discs captioned "a round disc", bars "a thin bar", 16×16 grey. */
function captionedData(): ImageDataset {
  const ds = new ImageDataset({ size: 16, channels: 1, fit: 'crop' });
  for (let i = 0; i < 4; i++) {
    ds.add({ name: `disc${i}.png`, label: null, pixels: shapePixels(16, 16, 'disc'), caption: 'a round disc' });
    ds.add({ name: `bar${i}.png`, label: null, pixels: shapePixels(16, 16, 'bar'), caption: 'a thin bar' });
  }
  return ds;
}
const vocabulary = buildVocabulary(['a round disc', 'a thin bar']);
const config = () => textPresetConfig('tiny', 16, 1, vocabulary);

beforeAll(async () => {
  registerWasmKernels();
  await tf.setBackend('wasm');
});
afterAll(async () => {
  await tf.setBackend('cpu');
});

describe('the text preset', () => {
  it('is the tiny preset with cross-attention below full resolution and a small encoder over the captions’ words', () => {
    const c = config();
    expect(c).toMatchObject({
      kind: 'text-unet',
      imageSize: 16,
      baseChannels: 16,
      channelMults: [1, 2],
      crossAttentionLevels: [1],
      numClasses: 0,
    });
    expect(c.text).toEqual({
      vocabulary: ['<pad>', '<start>', 'a', 'bar', 'disc', 'round', 'thin'],
      maxTokens: 16,
      dim: 32,
      layers: 1,
      heads: 2,
    });
    expect(textPresetConfig('small', 32, 3, vocabulary)).toMatchObject({ channelMults: [1, 2, 2], crossAttentionLevels: [1, 2] });
    expect(() => textPresetConfig('tiny', 16, 1, buildVocabulary(['', '!']))).toThrow('none of the captions has a word');
  });
});

describe('a training step on captions', () => {
  it('encodes the captions inside the step, drops them to the empty prompt at the dropout rate, and leaks nothing', async () => {
    const model = UNet.create(config(), 1);
    const ids = (prompt: string) => tokenize(prompt, vocabulary, 16).ids;
    const tokens = [ids('a round disc'), ids('a thin bar'), ids('a round disc'), ids('a thin bar')];
    const x0 = tf.tensor4d(captionedData().batch(new GaussianRng(0), 4, false, -1).values, [4, 16, 16, 1]);
    const seen: number[][][] = [];
    const encode = model.encode.bind(model);
    model.encode = (t) => {
      seen.push(t.arraySync() as number[][]);
      return encode(t);
    };
    const kept = new Trainer(model, diffusion, { ...trainConfig, labelDropout: 0 });
    await kept.trainStep(x0, { tokens });
    expect(seen[0]).toEqual(tokens);
    // every caption dropped: the empty prompt, <start> then <pad>
    const dropping = new Trainer(model, diffusion, { ...trainConfig, labelDropout: 1 });
    await dropping.trainStep(x0, { tokens });
    expect(seen[1]).toEqual(tokens.map(() => ids('')));
    expect(seen[1][0].slice(0, 2)).toEqual([1, 0]);
    await expectNoLeak(async () => {
      for (let i = 0; i < 3; i++) await kept.trainStep(x0, { tokens });
    });
    tf.dispose(x0);
    kept.dispose();
    dropping.dispose();
    model.dispose();
  });
});

describe('a training run on captioned pictures', () => {
  it('the loss falls; previews are drawn for the captions; a checkpoint resumes it; the export carries the vocabulary', async () => {
    const losses: number[] = [];
    const checkpoints: TrainingCheckpoint[] = [];
    const previews: Float32Array[] = [];
    const s = TrainingSession.create(config(), diffusion, trainConfig, captionedData(), run({ totalSteps: 50, previewEvery: 50 }), {
      onStep: (r) => losses.push(r.loss),
      onPreview: (f) => previews.push(f.images),
      onCheckpoint: (c) => void checkpoints.push(c),
    });
    expect(await s.run()).toEqual({ kind: 'finished' });
    expect(mean(losses.slice(-10))).toBeLessThan(0.6 * mean(losses.slice(0, 5)));
    expect(previews).toHaveLength(1);
    expect(previews[0]).toHaveLength(8 * 16 * 16);
    expect(previews[0].every((v) => Number.isFinite(v) && v >= -1.001 && v <= 1.001)).toBe(true);

    const last = checkpoints[checkpoints.length - 1];
    expect(last.step).toBe(50);
    expect(last.config).toEqual(config());
    const resumed = await TrainingSession.resume(last, captionedData(), run({ totalSteps: 52 }));
    expect(await resumed.run()).toEqual({ kind: 'finished' });
    expect(resumed.trainer.step).toBe(52);
    resumed.dispose();

    // what "export" writes reads back through the file checks, vocabulary and all
    const artifacts = await toArtifacts(s.samplingModel, diffusion, { description: 'test' });
    // model.json is JSON: the topology as it reads back from the file
    const loaded = fromArtifacts({ ...artifacts, modelTopology: JSON.parse(JSON.stringify(artifacts.modelTopology)) as object });
    expect(loaded.model.config).toEqual(config());
    loaded.model.dispose();
    s.dispose();
  });
});
