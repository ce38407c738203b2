import * as tf from '@tensorflow/tfjs';
import { decodeImageFile } from '../data/decode';
import { yieldToEvents } from '../engine/yield';
import { closeness, nearestPairDistances, nearestRows, yardstickQueries, type Rows } from '../memorisation/nearest';
import type { ChannelRequest, ImageBatch, ImageCheck, NearestImage, Yardstick } from '../protocol';
import type { DeviceGate } from './device-gate';
import type { ClassifierMeter, Meters } from './meter';
import type { ModelRegistry, TrainingImages } from './model-registry';
import type { ChannelService, Post } from './service';
import { loadShippedDigits } from './shipped-digits';

/** A training set ready to search: its pixels, names, and yardsticks (the data's own nearest-pair distances). */
interface SearchSet {
  pixels: Rows;
  size: number;
  channels: number;
  names: string[];
  pixelYardstick: Float64Array;
  /** Classifier features and their yardstick: images a meter's classifier embeds (28×28 grey, 32×32 colour) only. */
  features: Rows | null;
  featureYardstick: Float64Array | null;
  description: string;
}

const K = 3;
const FEATURE_BATCH = 250;

/**
 * The memorisation check in the worker: for each image asked about, the three nearest images of the
 * active model's training set by pixel distance and, for digits and 32×32 colour, by a meter classifier's features,
 * each read against the data's own nearest-pair distances: the 'memorisation' channel.
 */
export class MemorisationService implements ChannelService<'memorisation'> {
  readonly channel = 'memorisation';
  private readonly sets = new WeakMap<TrainingImages, Promise<SearchSet>>();

  constructor(
    private readonly post: Post<'memorisation'>,
    private readonly models: ModelRegistry,
    private readonly device: DeviceGate,
    /** The digit classifier, whose features are the second search (digits models only). */
    private readonly meter: Meters,
    /** How files are fetched (Node's tests read them from disk). */
    private readonly fetchFile: (url: string) => Promise<Response> = (url) => fetch(url),
  ) {}

  async handle(request: ChannelRequest<'memorisation'>): Promise<void> {
    await this.device.ready();
    switch (request.type) {
      case 'check':
        return await this.check(request.request, request.images);
      case 'checkFile':
        return await this.checkFile(request.request, request.file);
    }
  }

  /** Checks a batch of images (values in [−1, 1], at the active model's size), e.g. a run's final samples. */
  private async check(request: number, images: ImageBatch): Promise<void> {
    const set = await this.searchSet(request);
    if (images.size !== set.size || images.channels !== set.channels)
      throw new Error(
        `the images are ${images.size}×${images.size}×${images.channels}; the model's training images are ${set.size}×${set.size}×${set.channels}`,
      );
    const per = set.size * set.size * set.channels;
    const queries = Array.from({ length: images.batch }, (_, b) => toBytes(images.values.subarray(b * per, (b + 1) * per)));
    await this.answer(request, set, queries);
  }

  /** Checks a picture of the person's own (decoded to the model's size, letterboxed): "is this in the training set?" */
  private async checkFile(request: number, file: File): Promise<void> {
    const set = await this.searchSet(request);
    const bytes = await decodeImageFile(file, { size: set.size, channels: set.channels as 1 | 3, fit: 'pad' });
    await this.answer(request, set, [bytes]);
  }

  private async answer(request: number, set: SearchSet, queries: Uint8Array[]): Promise<void> {
    const meter = this.meter.embedding(set.size, set.channels);
    const queryFeatures = set.features && meter ? (await this.embed(meter, queries, set.size, set.channels)).values : null;
    const checks: ImageCheck[] = queries.map((query, b) => {
      const byPixels = nearestRows(query, set.pixels, K);
      const check: ImageCheck = {
        query,
        pixels: {
          nearest: byPixels.map((n) => this.neighbour(set, n.index, n.distance / 255)),
          closeness: closeness(byPixels[0].distance, set.pixelYardstick),
        },
        features: null,
      };
      if (queryFeatures && set.features) {
        const w = set.features.dim;
        const byFeatures = nearestRows(queryFeatures.subarray(b * w, (b + 1) * w), set.features, K);
        check.features = {
          nearest: byFeatures.map((n) => this.neighbour(set, n.index, n.distance)),
          closeness: closeness(byFeatures[0].distance, set.featureYardstick!),
        };
      }
      return check;
    });
    this.post({
      channel: 'memorisation',
      type: 'result',
      request,
      result: {
        description: set.description,
        count: set.pixels.count,
        size: set.size,
        channels: set.channels,
        yardsticks: { pixels: summary(set.pixelYardstick, 255), features: set.featureYardstick ? summary(set.featureYardstick, 1) : null },
        checks,
      },
    });
  }

  private neighbour(set: SearchSet, index: number, distance: number): NearestImage {
    const per = set.pixels.dim;
    return {
      index,
      name: set.names[index],
      distance,
      pixels: Uint8Array.from((set.pixels.values as Uint8Array).subarray(index * per, (index + 1) * per)),
    };
  }

  /** The active model's training set, loaded and measured once per set. */
  private searchSet(request: number): Promise<SearchSet> {
    const held = this.models.active;
    const source = held.trainedOn;
    if (!source)
      throw new Error(
        held.source === 'imported' || held.source === 'hub'
          ? `this model came from ${held.source === 'hub' ? 'the Hugging Face Hub' : 'a file'}: the images it was trained on are not here to compare against (train one here, or use the shipped model)`
          : 'this model has no training images to compare against',
      );
    let set = this.sets.get(source);
    if (!set) {
      set = this.build(request, source);
      this.sets.set(source, set);
      set.catch(() => this.sets.delete(source)); // a failed download can be retried
    }
    return set;
  }

  private async build(request: number, source: TrainingImages): Promise<SearchSet> {
    const progress = async (phase: 'download' | 'features' | 'yardstick', done: number, total: number) => {
      this.post({ channel: 'memorisation', type: 'progress', request, phase, done, total });
      await yieldToEvents();
    };
    await progress('download', 0, 1);
    const { values, names, size, channels, description } =
      source.kind === 'shipped' ? await loadShippedDigits(source.url, this.fetchFile) : fromUploads(source);
    const per = size * size * channels;
    const pixels: Rows = { values, count: values.length / per, dim: per };
    let features: Rows | null = null;
    let featureYardstick: Float64Array | null = null;
    const meter = this.meter.embedding(size, channels);
    if (meter && (await meter.load())) {
      let joined: Float32Array | null = null;
      let width = 0;
      for (let start = 0; start < pixels.count; start += FEATURE_BATCH) {
        await progress('features', start, pixels.count);
        const rows = Array.from({ length: Math.min(FEATURE_BATCH, pixels.count - start) }, (_, i) =>
          values.subarray((start + i) * per, (start + i + 1) * per),
        );
        const part = await this.embed(meter, rows, size, channels);
        width = part.width;
        joined ??= new Float32Array(pixels.count * width);
        joined.set(part.values, start * width);
      }
      features = { values: joined!, count: pixels.count, dim: width };
    }
    await progress('yardstick', 0, 1);
    const pixelYardstick = nearestPairDistances(pixels, yardstickQueries(pixels));
    if (features) featureYardstick = nearestPairDistances(features, yardstickQueries(features));
    await progress('yardstick', 1, 1);
    return { pixels, size, channels, names, pixelYardstick, features, featureYardstick, description };
  }

  /** A meter classifier's features of size×size byte images (the meter is loaded), [n·width]. */
  private async embed(
    meter: ClassifierMeter,
    rows: Uint8Array[],
    size: number,
    channels: number,
  ): Promise<{ values: Float32Array; width: number }> {
    const per = size * size * channels;
    const x = tf.tidy(() => {
      const bytes = new Float32Array(rows.length * per);
      rows.forEach((r, i) => bytes.set(r, i * per));
      return tf.sub(tf.div(tf.tensor4d(bytes, [rows.length, size, size, channels]), 127.5), 1);
    });
    try {
      return (await meter.features(x))!;
    } finally {
      x.dispose();
    }
  }
}

/** An image in [−1, 1] as the page shows it: grey levels, rounded as a canvas rounds. */
export function toBytes(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8ClampedArray(values.length);
  for (let i = 0; i < values.length; i++) out[i] = ((values[i] + 1) / 2) * 255;
  return new Uint8Array(out.buffer);
}

/** A yardstick's median and 1st / 10th percentiles, in display units (pixel distances / 255). */
function summary(yardstick: Float64Array, unit: number): Yardstick {
  const at = (q: number) => yardstick[Math.min(yardstick.length - 1, Math.floor(q * yardstick.length))] / unit;
  return { queries: yardstick.length, p01: at(0.01), p10: at(0.1), median: at(0.5) };
}

function fromUploads(source: Extract<TrainingImages, { kind: 'uploads' }>) {
  const per = source.size * source.size * source.channels;
  const values = new Uint8Array(source.items.length * per);
  source.items.forEach((item, i) => values.set(item.pixels, i * per));
  const n = source.items.length;
  return {
    values,
    names: source.items.map((i) => i.name),
    size: source.size,
    channels: source.channels,
    description: `the ${n} picture${n === 1 ? '' : 's'} this model was trained on`,
  };
}
