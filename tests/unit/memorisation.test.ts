import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeness, nearestPairDistances, nearestRows, type Rows } from '../../src/memorisation/nearest';
import { DEFAULT_UNET_CONFIG } from '../../src/model/config';
import { UNet } from '../../src/model/model';
import { MemorisationService, toBytes } from '../../src/worker/memorisation';
import { Meters } from '../../src/worker/meter';
import { ModelRegistry, type TrainingImages } from '../../src/worker/model-registry';
import type { ImageBatch, MemorisationEvent, MemorisationResult } from '../../src/protocol';
import { DeviceGate } from '../../src/worker/device-gate';
import { digitBytes } from '../../scripts/export-digits';
import { loadMnist } from '../../scripts/mnist';
import { fileHandler } from '../../scripts/node-io';

/** A seeded generator of small integers (Park–Miller), so the random sets are the same every run. */
function ints(seed: number, n: number, max: number): number[] {
  let s = seed;
  return Array.from({ length: n }, () => (s = (s * 48271) % 2147483647) % (max + 1));
}

/** Every distance, sorted (the brute force the pruned search must equal). */
function bruteNearest(query: number[], set: Rows, k: number, skip = -1) {
  const all = [];
  for (let r = 0; r < set.count; r++) {
    if (r === skip) continue;
    let d2 = 0;
    for (let j = 0; j < set.dim; j++) d2 += (query[j] - Number(set.values[r * set.dim + j])) ** 2;
    all.push({ index: r, distance: Math.sqrt(d2) });
  }
  return all.sort((a, b) => a.distance - b.distance || a.index - b.index).slice(0, k);
}

describe('nearest training images (pure)', () => {
  // 300 rows of 50 values in 0…3: many exact ties, so the tie order is exercised
  const set: Rows = { values: Uint8Array.from(ints(7, 300 * 50, 3)), count: 300, dim: 50 };

  it('equals the brute-force search, ties to the lower index, with and without a skipped row', () => {
    for (const [seed, k, skip] of [
      [1, 3, -1],
      [2, 1, -1],
      [3, 5, 17],
      [4, 300, -1],
      [5, 400, 2],
    ] as const) {
      const query = ints(seed, 50, 3);
      expect(nearestRows(query, set, k, skip)).toEqual(bruteNearest(query, set, k, skip));
    }
  });

  it('finds a row copied into the query at distance 0, and refuses a query of the wrong length', () => {
    const row = Array.from(set.values).slice(123 * 50, 124 * 50);
    expect(nearestRows(row, set, 1)[0]).toEqual({ index: bruteNearest(row, set, 1)[0].index, distance: 0 });
    expect(nearestRows(row, set, 3).map((n) => n.distance)[0]).toBe(0);
    expect(() => nearestRows([1, 2], set, 1)).toThrow(/2 values; the set's rows have 50/);
  });

  it("the yardstick is each queried row's distance to its nearest other row, sorted", () => {
    const yard = nearestPairDistances(set, 30);
    const expected = Array.from({ length: 30 }, (_, q) => {
      const r = Math.floor((q * 300) / 30);
      return bruteNearest(Array.from(set.values).slice(r * 50, (r + 1) * 50), set, 1, r)[0].distance;
    }).sort((a, b) => a - b);
    expect(Array.from(yard)).toEqual(expected);
    expect(nearestPairDistances({ ...set, count: 1 }, 30)).toHaveLength(0);
  });

  it('reads a distance against the yardstick: copy under 1 %, close under 10 %, else apart', () => {
    const yard = Float64Array.from({ length: 200 }, (_, i) => 1 + i); // 1 … 200
    expect(closeness(0, yard)).toEqual({ share: 0, verdict: 'copy' });
    expect(closeness(2.5, yard)).toEqual({ share: 0.01, verdict: 'close' }); // 2 of 200 below
    expect(closeness(2, yard)).toEqual({ share: 0.005, verdict: 'copy' });
    expect(closeness(20.5, yard)).toEqual({ share: 0.1, verdict: 'apart' });
    expect(closeness(20, yard)).toEqual({ share: 0.095, verdict: 'close' });
    expect(closeness(500, yard)).toEqual({ share: 1, verdict: 'apart' });
    expect(closeness(3, new Float64Array(0))).toBeNull();
  });
});

describe('the shipped training digits', () => {
  it('public/data/train-digits.* hold exactly the training split the shipped model learned from', async () => {
    const split = await loadMnist();
    const meta = JSON.parse(await readFile('public/data/train-digits.json', 'utf8')) as {
      size: number;
      channels: number;
      counts: number[];
    };
    const bytes = gunzipSync(await readFile('public/data/train-digits.bin.gz'));
    expect(meta.counts.reduce((a, b) => a + b)).toBe(split.train.labels.length);
    expect(meta.counts.flatMap((c, label) => new Array<number>(c).fill(label))).toEqual(split.train.labels);
    expect(Buffer.compare(bytes, Buffer.from(digitBytes(split.train)))).toBe(0);
    // the package's values, rounded to grey levels: within half a level of what the model was trained on
    expect(split.train.images.every((image, i) => image.every((v, j) => Math.abs(v * 255 - bytes[i * 784 + j]) <= 0.5))).toBe(true);
  });
});

describe('the memorisation service', () => {
  const fromDisk = async (url: string) => new Response(await readFile(url));
  let train: Uint8Array;
  let heldOut: Uint8Array;

  beforeAll(async () => {
    await tf.setBackend('wasm'); // the classifier reads 9,000 digits: wasm's convolutions, not pure JS
    const split = await loadMnist();
    train = digitBytes(split.train);
    heldOut = digitBytes(split.heldOut);
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  /** The service on a registry whose active model is `held`, recording what it posts. */
  function service(
    trainedOn: TrainingImages | undefined,
    config = DEFAULT_UNET_CONFIG,
    source: 'shipped' | 'trained' | 'imported' = 'shipped',
    /** Where the meter's classifier is (none: no feature search). */
    classifier?: string,
  ) {
    const posted: MemorisationEvent[] = [];
    const models = new ModelRegistry(() => {});
    const model = UNet.create({ ...config, baseChannels: 8, channelMults: [1], groups: 4, attention: false }, 0);
    models.activate({
      model,
      diffusion: { numTrainTimesteps: 10, betaSchedule: 'linear', predictionType: 'epsilon' },
      metadata: {},
      source,
      ...(trainedOn ? { trainedOn } : {}),
    });
    const meter = new Meters();
    if (classifier) meter.digits.locate(fileHandler(classifier));
    const service = new MemorisationService((m) => void posted.push(m), models, new DeviceGate(), meter, fromDisk);
    const s = {
      check: (request: number, images: ImageBatch) => service.handle({ channel: 'memorisation', type: 'check', request, images }),
    };
    const result = () => posted.find((m): m is Extract<MemorisationEvent, { type: 'result' }> => m.type === 'result')?.result;
    return { s, posted, result, dispose: () => model.dispose() };
  }

  const signed = (bytes: Uint8Array) => Float32Array.from(bytes, (b) => (b / 255) * 2 - 1);

  it('a copied training digit is found at distance 0, by pixels and by classifier features, and reads as a copy; a held-out digit does not', async () => {
    const { s, posted, result, dispose } = service(
      { kind: 'shipped', url: 'public/data/train-digits.json' },
      DEFAULT_UNET_CONFIG,
      'shipped',
      'public/models/digit-classifier/model.json',
    );
    const copied = 4321;
    const images = new Float32Array(2 * 784);
    images.set(signed(train.subarray(copied * 784, (copied + 1) * 784)), 0);
    images.set(signed(heldOut.subarray(0, 784)), 784);
    await s.check(7, { values: images, batch: 2, size: 28, channels: 1 });
    const after = tf.memory().numTensors; // the classifier's weights, loaded by the first check
    await s.check(8, { values: images, batch: 2, size: 28, channels: 1 }); // the second reuses the loaded set
    expect(tf.memory().numTensors).toBe(after);
    const r = result() as MemorisationResult;
    expect(r.count).toBe(9000);
    expect(r.description).toMatch(/9,000 MNIST digits the shipped model was trained on/);
    const [copy, fresh] = r.checks;
    expect(copy.pixels.nearest[0]).toMatchObject({ index: copied, distance: 0, name: '4' });
    expect(Array.from(copy.pixels.nearest[0].pixels)).toEqual(Array.from(train.subarray(copied * 784, (copied + 1) * 784)));
    expect(copy.pixels.closeness).toEqual({ share: 0, verdict: 'copy' });
    expect(copy.features!.nearest[0]).toMatchObject({ index: copied, distance: 0 });
    expect(copy.features!.closeness!.verdict).toBe('copy');
    // the held-out digit: its three neighbours are the brute force's, none at 0, not a copy
    const q = Array.from(heldOut.subarray(0, 784));
    const brute = bruteNearest(q, { values: train, count: 9000, dim: 784 }, 3);
    expect(fresh.pixels.nearest.map((n) => [n.index, n.distance])).toEqual(brute.map((n) => [n.index, n.distance / 255]));
    expect(fresh.pixels.nearest[0].distance).toBeGreaterThan(0);
    expect(fresh.pixels.closeness!.verdict).not.toBe('copy');
    expect(fresh.query).toEqual(heldOut.subarray(0, 784));
    // the yardstick: 300 training digits' nearest other digits, in [0, 1] pixel units
    expect(r.yardsticks.pixels.queries).toBe(300);
    expect(r.yardsticks.pixels.p01).toBeGreaterThan(0);
    expect(r.yardsticks.pixels.median).toBeGreaterThan(r.yardsticks.pixels.p10);
    // progress: download, the classifier over 9,000 digits in batches, the yardstick — once, for the first check only
    const phases = posted.filter((m) => m.type === 'progress').map((m) => m.type === 'progress' && m.phase);
    expect(phases.filter((p) => p === 'features')).toHaveLength(36);
    expect(posted.filter((m) => m.type === 'progress').every((m) => m.type === 'progress' && m.request === 7)).toBe(true);
    dispose();
  }, 120_000);

  it('a model trained here is checked against its own pictures (by name); an imported one says why it cannot be', async () => {
    const size = 16;
    const items = [0, 1, 2, 3, 4].map((i) => ({
      name: `pets/cat-${i}.png`,
      label: 'pets',
      pixels: Uint8Array.from(ints(i + 1, size * size * 3, 255)),
    }));
    const trained = service(
      { kind: 'uploads', items, size, channels: 3 },
      { ...DEFAULT_UNET_CONFIG, imageSize: size, inChannels: 3 },
      'trained',
    );
    const values = new Float32Array(size * size * 3);
    values.set(signed(items[2].pixels));
    await trained.s.check(1, { values, batch: 1, size, channels: 3 });
    const r = trained.result()!;
    expect(r.description).toBe('the 5 pictures this model was trained on');
    expect(r.checks[0].pixels.nearest[0]).toMatchObject({ index: 2, name: 'pets/cat-2.png', distance: 0 });
    expect(r.checks[0].pixels.nearest).toHaveLength(3);
    expect(r.checks[0].features).toBeNull(); // colour pictures: no digit classifier
    expect(r.checks[0].pixels.closeness!.verdict).toBe('copy');
    await expect(trained.s.check(2, { values, batch: 1, size: 32, channels: 3 })).rejects.toThrow(
      /32×32×3; the model's training images are 16×16×3/,
    );
    trained.dispose();

    const imported = service(undefined, DEFAULT_UNET_CONFIG, 'imported');
    await expect(imported.s.check(1, { values, batch: 1, size, channels: 3 })).rejects.toThrow(
      /came from a file: the images it was trained on are not here/,
    );
    imported.dispose();
  });

  it('quantises a sample as the page shows it (a canvas rounds)', () => {
    expect(Array.from(toBytes([-1, 1, 0, -2, 2, 0.5]))).toEqual([0, 255, 128, 0, 255, 191]);
  });
});
