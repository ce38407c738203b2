import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerWasmKernels } from '../../src/model/wasm-kernels';
import { ImageDataset } from '../../src/data/dataset';
import { readNpy } from '../../scripts/npy';
import { EMOJI_CLASSIFIER, DIGIT_CLASSIFIER, shift } from '../../src/eval/classifier';
import { loadDiffusers } from '../../src/model/diffusers/load';
import { classNames } from '../../src/model/metadata';
import { parseUNet2DConfig } from '../../src/model/unet2d-config';
import { priorFor, priorLabelMap, qualityStage, trainConfigFor, DEFAULT_SETUP } from '../../src/training/recipe';
import { TrainingSession } from '../../src/training/session';
import { Meters } from '../../src/worker/meter';
import { fetchShippedFolder } from '../../src/worker/shipped-folder';

/**
 * The shipped colour prior (issue 27): which pictures fine-tune which shipped model, the emoji
 * model's folder as the worker fetches it, fine-tuning it (its categories and "no label" row), the
 * meters' choice of classifier, and the pieces the colour bench reads its data with.
 */
const EMOJI = 'public/models/emoji';
const CATEGORIES = readFileSync(join(EMOJI, 'playground.json'), 'utf8');

/** fetch() over the files on disk under public/ (URLs under http://page/). */
const fromDisk = (url: string): Promise<Response> => {
  const path = join('public', new URL(url).pathname);
  try {
    return Promise.resolve(new Response(readFileSync(path)));
  } catch {
    return Promise.resolve(new Response('not found', { status: 404 }));
  }
};

// the fine-tune trains a 1.1M-weight model at 32×32: on wasm, as the page does
beforeAll(async () => {
  registerWasmKernels();
  await tf.setBackend('wasm');
});
afterAll(async () => {
  await tf.setBackend('cpu');
});

describe('the colour prior', () => {
  it('pictures fine-tune the shipped model of their size and colour: 28×28 grey the digits, 32×32 colour the emoji, nothing else', () => {
    expect(priorFor(28, 1)).toBe('digits');
    expect(priorFor(32, 3)).toBe('emoji');
    expect(priorFor(32, 1)).toBeNull();
    expect(priorFor(16, 3)).toBeNull();
    expect(priorFor(28, 3)).toBeNull();
  });

  it("the estimate's stages come from the bench of the pictures' kind: digits for grey, emoji for colour", () => {
    expect([0, 5_000, 12_000, 25_000].map((n) => qualityStage(n, 3))).toEqual([
      'colour noise',
      'colour noise',
      'coarse patches of colour',
      "soft blobs in the pictures' colours, no shapes yet",
    ]);
    expect(qualityStage(25_000, 1)).toBe('mostly recognisable pictures');
  });

  it("folders named like the prior's classes keep their class (any case); other folders train its 'no label' row", () => {
    const categories = (JSON.parse(CATEGORIES) as { classes: string[] }).classes;
    expect(priorLabelMap(['animals & nature', 'FLAGS', 'my cats'], categories, 9)).toEqual([2, 8, 9]);
    expect(priorLabelMap(['7', 'x'], ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'], 10)).toEqual([7, 10]);
  });

  it('the shipped folder loads as the worker fetches it: a class-conditional UNet2DModel with nine named categories and a "no label" row', async () => {
    const { model, metadata } = await loadDiffusers(await fetchShippedFolder('http://page/models/emoji/', fromDisk));
    expect(model.config).toMatchObject({ kind: 'unet2d', imageSize: 32, inChannels: 3, numClasses: 9, noLabelClass: 9 });
    expect(classNames(metadata, model.config.numClasses)).toEqual((JSON.parse(CATEGORIES) as { classes: string[] }).classes);
    model.dispose();
  });

  it('a shipped folder with a file missing, or a server out of reach, says which and why', async () => {
    await expect(fetchShippedFolder('http://page/models/nothing/', fromDisk)).rejects.toThrow(
      /the shipped model's [\w.]+ is missing \(HTTP 404\)/,
    );
    await expect(fetchShippedFolder('http://page/models/emoji/', () => Promise.reject(new TypeError('Failed to fetch')))).rejects.toThrow(
      /cannot fetch the shipped model's .* \(Failed to fetch\)/,
    );
  });

  it('fine-tuning it trains its UNet2DModel in tfjs: the loss is finite, the weights move, labelled pictures keep their category and the rest train "no label"', async () => {
    const prior = await loadDiffusers(await fetchShippedFolder('http://page/models/emoji/', fromDisk));
    const dataset = new ImageDataset({ size: 32, channels: 3, fit: 'crop' });
    for (let i = 0; i < 3; i++)
      dataset.add({
        name: `${i}.png`,
        label: [null, 'Flags', 'Animals & Nature'][i % 3],
        pixels: Uint8Array.from({ length: 32 * 32 * 3 }, (_, k) => (k * 7 + i * 50) % 256),
      });
    const classes = classNames(prior.metadata, prior.model.config.numClasses);
    const labelMap = priorLabelMap(dataset.classNames, classes, prior.model.config.numClasses);
    expect(labelMap).toEqual([2, 8]); // 'Animals & Nature', 'Flags' (the data's sorted folders) → the prior's rows
    const before = await prior.model.weights.get('conv_in.weight')!.data();
    const losses: number[] = [];
    const session = TrainingSession.create(
      prior.model.config,
      prior.diffusion,
      trainConfigFor({ ...DEFAULT_SETUP, learningRate: 2e-4, totalSteps: 2 }),
      dataset,
      { batchSize: 3, totalSteps: 2, flip: true, previewEvery: 0, checkpointEvery: 100, labelMap, classNames: classes },
      { onStep: (r) => void losses.push(r.loss) },
      prior.model,
    );
    // the labels each step trains with (before the label dropout's "no label")
    const asked: number[] = [];
    const trainStep = session.trainer.trainStep.bind(session.trainer);
    session.trainer.trainStep = (x0, condition) => {
      asked.push(...(condition as number[]));
      return trainStep(x0, condition);
    };
    expect(await session.run()).toEqual({ kind: 'finished' });
    expect(asked).toHaveLength(6);
    expect(new Set(asked)).toEqual(new Set([2, 8, 9]));
    expect(losses).toHaveLength(2);
    expect(losses.every(Number.isFinite)).toBe(true);
    const after = await session.trainer.model.weights.get('conv_in.weight')!.data();
    expect(after.some((v, i) => v !== before[i])).toBe(true);
    session.dispose();
    prior.model.dispose();
  });

  it('a class-conditional model without a "no label" row cannot train unlabelled pictures: the run says why', async () => {
    const dir = 'tests/fixtures/diffusers/cifar-like-f16';
    const files = {
      config: JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as unknown,
      weights: {
        name: 'diffusion_pytorch_model.safetensors',
        bytes: new Uint8Array(readFileSync(join(dir, 'diffusion_pytorch_model.safetensors'))),
      },
    };
    const { model, diffusion } = await loadDiffusers(files);
    expect(parseUNet2DConfig(files.config).numClassEmbeds).toBe(5);
    const dataset = new ImageDataset({ size: 8, channels: 1, fit: 'crop' });
    dataset.add({ name: 'a.png', label: null, pixels: new Uint8Array(64).fill(100) });
    const session = TrainingSession.create(
      model.config,
      diffusion,
      trainConfigFor({ ...DEFAULT_SETUP, totalSteps: 1 }),
      dataset,
      { batchSize: 1, totalSteps: 1, flip: false, previewEvery: 0, checkpointEvery: 100 },
      {},
      model,
    );
    const reason = await session.run();
    expect(reason).toMatchObject({ kind: 'error' });
    expect((reason as { message: string }).message).toMatch(
      /no "no label" class: every picture needs a folder named like one of its classes/,
    );
    session.dispose();
    model.dispose();
  });
});

describe('the meters', () => {
  it('read a model with the classifier that fits it: digits for 28×28 grey and the text model, emoji for 32×32 colour of nine categories', () => {
    const meters = new Meters();
    const digits = { imageSize: 28, inChannels: 1, numClasses: 10 };
    const emoji = { imageSize: 32, inChannels: 3, numClasses: 9 };
    // nothing is read until the page says where the classifiers are
    expect(meters.for(digits)).toBeNull();
    meters.digits.locate('http://page/models/digit-classifier/model.json');
    meters.emoji.locate('http://page/models/emoji-classifier/model.json');
    expect(meters.for(digits)).toBe(meters.digits);
    expect(meters.for({ imageSize: 48, inChannels: 1, numClasses: 0, kind: 'text-unet' })).toBe(meters.digits);
    expect(meters.for(emoji)).toBe(meters.emoji);
    expect(meters.for({ imageSize: 32, inChannels: 3, numClasses: 3 })).toBeNull();
    expect(meters.for({ imageSize: 16, inChannels: 3, numClasses: 9 })).toBeNull();
    // the memorisation check embeds any picture of a classifier's size and colour
    expect(meters.embedding(32, 3)).toBe(meters.emoji);
    expect(meters.embedding(28, 1)).toBe(meters.digits);
    expect(meters.embedding(16, 1)).toBeNull();
    expect([EMOJI_CLASSIFIER.classes, DIGIT_CLASSIFIER.classes]).toEqual([9, 10]);
  });
});

describe("the colour bench's pieces", () => {
  it('shift moves an RGB image and mirrors it left–right, filling with black; a grey one as before', () => {
    const rgb = Float32Array.from({ length: 2 * 2 * 3 }, (_, i) => i / 10); // [[p0, p1], [p2, p3]]
    const pixel = (img: Float32Array, y: number, x: number) => Array.from(img.slice((y * 2 + x) * 3, (y * 2 + x) * 3 + 3));
    const mirrored = shift(rgb, 0, 0, 2, 3, true);
    expect(pixel(mirrored, 0, 0)).toEqual(pixel(rgb, 0, 1));
    expect(pixel(mirrored, 1, 1)).toEqual(pixel(rgb, 1, 0));
    const moved = shift(rgb, 1, 0, 2, 3);
    expect(pixel(moved, 0, 0)).toEqual([-1, -1, -1]);
    expect(pixel(moved, 0, 1)).toEqual(pixel(rgb, 0, 0));
    const grey = Float32Array.from({ length: 28 * 28 }, (_, i) => i);
    expect(shift(grey, 2, -1)[1 * 28 + 5]).toBe(grey[2 * 28 + 3]);
  });

  it('reads NumPy uint8 and bool arrays (the emoji data set)', () => {
    const npy = (descr: string, shape: string, data: number[]) => {
      let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
      header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
      const out = new Uint8Array(10 + header.length + data.length);
      out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
      new DataView(out.buffer).setUint16(8, header.length, true);
      out.set(new TextEncoder().encode(header), 10);
      out.set(data, 10 + header.length);
      return out;
    };
    expect(readNpy(npy('|u1', '(2, 2)', [0, 127, 255, 3]))).toEqual({
      shape: [2, 2],
      dtype: 'u1',
      values: Uint8Array.from([0, 127, 255, 3]),
    });
    expect(readNpy(npy('|b1', '(3,)', [1, 0, 1]))).toMatchObject({ dtype: 'b1', values: Uint8Array.from([1, 0, 1]) });
    expect(() => readNpy(npy('|u1', '(4,)', [1, 2]))).toThrow(/truncated/);
  });
});
