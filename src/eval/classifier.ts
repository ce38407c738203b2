import * as tf from '@tensorflow/tfjs';
import { DIGIT_SIZE } from '../data/mnist-split';
import { GaussianRng } from '../diffusion/random';

/*
 * The evaluation's classifiers: a small conv net (3 × [3×3 conv, ReLU, 2×2 max-pool], then a
 * 128-unit ReLU feature layer and a softmax over the classes). Its reading of generated images says
 * whether they show the requested class, and its feature layer is the embedding the Fréchet distance
 * is measured in (the role Inception-v3's pool features play in FID). Inputs are images in [−1, 1],
 * like the diffusion model's samples. Two are made, each of its own shape:
 *  - the MNIST digit classifier (~98k weights, ~390 KB), trained by `npm run eval`;
 *  - the emoji category classifier (32×32 colour, the nine emoji categories), trained by
 *    `npm run emoji-classifier` on the emoji the colour prior trained on (its held-out tenth is its test set).
 * The page ships both (public/models/digit-classifier, public/models/emoji-classifier) as its "it
 * reads as…" meter and the memorisation check's embedding (src/worker/meter.ts); scripts/classifier.ts
 * saves and loads them.
 */

/** The 128-wide layer whose activations are the embedding (Fréchet distance, memorisation check). */
export const FEATURE_LAYER = 'features';

/** A classifier's input and output: square images of `size` with `channels`, `classes` classes, and the conv widths. */
export interface ClassifierShape {
  size: number;
  channels: number;
  classes: number;
  widths: [number, number, number];
  /** Training mirrors images left–right at random (emoji: yes; digits: no, a mirrored 2 is no digit). */
  flip: boolean;
  /**
   * Training weighs each class by the inverse of its share, so a rare class counts as much as a
   * common one (emoji: People & Body is 60 % of them, Activities 2 %; the samples it judges are asked
   * for every class equally).
   */
  balanced: boolean;
}

export const DIGIT_CLASSIFIER: ClassifierShape = {
  size: DIGIT_SIZE,
  channels: 1,
  classes: 10,
  widths: [16, 32, 64],
  flip: false,
  balanced: false,
};
export const EMOJI_CLASSIFIER: ClassifierShape = { size: 32, channels: 3, classes: 9, widths: [32, 64, 128], flip: true, balanced: true };

/** Training shifts every image by up to this many pixels in x and y, filling with background. */
const MAX_SHIFT = 2;

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  seed: number;
  onEpoch?: (epoch: number, loss: number, seconds: number) => void;
}

export interface Classification {
  /** argmax class per image. */
  labels: number[];
  /** The FEATURE_LAYER activations per image. */
  features: Float32Array[];
}

/** The untrained network, initialised from `seed` (He-normal kernels for the ReLU layers). */
export function buildClassifier(seed: number, shape: ClassifierShape = DIGIT_CLASSIFIER): tf.Sequential {
  const he = (k: number) => tf.initializers.heNormal({ seed: seed + k });
  const conv = (filters: number, k: number, inputShape?: number[]) =>
    tf.layers.conv2d({
      filters,
      kernelSize: 3,
      padding: 'same',
      activation: 'relu',
      kernelInitializer: he(k),
      ...(inputShape ? { inputShape } : {}),
    });
  const [w0, w1, w2] = shape.widths;
  return tf.sequential({
    layers: [
      conv(w0, 0, [shape.size, shape.size, shape.channels]),
      tf.layers.maxPooling2d({ poolSize: 2 }), // 28 → 14 (32 → 16)
      conv(w1, 1),
      tf.layers.maxPooling2d({ poolSize: 2 }), // 7 (8)
      conv(w2, 2),
      tf.layers.maxPooling2d({ poolSize: 2 }), // 3 (4)
      tf.layers.flatten(),
      tf.layers.dense({ units: 128, activation: 'relu', kernelInitializer: he(3), name: FEATURE_LAYER }),
      tf.layers.dropout({ rate: 0.3, seed }),
      tf.layers.dense({
        units: shape.classes,
        activation: 'softmax',
        kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 4 }),
      }),
    ],
  });
}

/**
 * `image` (HWC, `size`×`size`×`channels`) translated by (dx, dy) pixels and mirrored left–right
 * when `mirror`, the uncovered border filled with −1 (background: black, or a digit's paper).
 */
export function shift(image: Float32Array, dx: number, dy: number, size = DIGIT_SIZE, channels = 1, mirror = false): Float32Array {
  const out = new Float32Array(size * size * channels).fill(-1);
  for (let y = Math.max(0, dy); y < Math.min(size, size + dy); y++)
    for (let x = Math.max(0, dx); x < Math.min(size, size + dx); x++) {
      const sx = mirror ? size - 1 - (x - dx) : x - dx;
      for (let c = 0; c < channels; c++) out[(y * size + x) * channels + c] = image[((y - dy) * size + sx) * channels + c];
    }
  return out;
}

/** One batch tensor [N, S, S, C] from flat images. */
export function batchTensor(images: Float32Array[], size: number, channels: number): tf.Tensor4D {
  const pixels = size * size * channels;
  const flat = new Float32Array(images.length * pixels);
  images.forEach((image, i) => flat.set(image, i * pixels));
  return tf.tensor4d(flat, [images.length, size, size, channels]);
}

/**
 * Trains a fresh classifier with Adam on categorical cross-entropy, lr 10⁻³ and then 10⁻⁴ (a fresh
 * Adam) for the last quarter of the epochs. Every epoch sees all images once, in a seeded random
 * order, each shifted by a random whole (dx, dy) ∈ [−2, 2]² (and mirrored at random where the shape says so).
 */
export async function trainClassifier(
  images: Float32Array[],
  labels: number[],
  options: TrainOptions,
  shape: ClassifierShape = DIGIT_CLASSIFIER,
): Promise<tf.Sequential> {
  const model = buildClassifier(options.seed, shape);
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  const decayAt = Math.ceil(0.75 * options.epochs);
  const rng = new GaussianRng(options.seed);
  const offset = () => Math.floor(rng.uniform() * (2 * MAX_SHIFT + 1)) - MAX_SHIFT;
  const counts = Array.from({ length: shape.classes }, (_, k) => labels.filter((l) => l === k).length);
  const classWeight = shape.balanced
    ? Object.fromEntries(counts.map((n, k) => [k, labels.length / (shape.classes * Math.max(1, n))]))
    : undefined;
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    const started = performance.now();
    if (epoch === decayAt) {
      model.optimizer.dispose();
      model.compile({ optimizer: tf.train.adam(1e-4), loss: 'categoricalCrossentropy' });
    }
    const order = images.map((_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rng.uniform() * (i + 1)); // Fisher–Yates
      [order[i], order[j]] = [order[j], order[i]];
    }
    const x = batchTensor(
      order.map((i) => shift(images[i], offset(), offset(), shape.size, shape.channels, shape.flip && rng.uniform() < 0.5)),
      shape.size,
      shape.channels,
    );
    const y = tf.tidy(() =>
      tf.oneHot(
        tf.tensor1d(
          order.map((i) => labels[i]),
          'int32',
        ),
        shape.classes,
      ),
    );
    const history = await model.fit(x, y, { epochs: 1, batchSize: options.batchSize, shuffle: false, verbose: 0, classWeight });
    tf.dispose([x, y]);
    options.onEpoch?.(epoch, history.history.loss[0] as number, (performance.now() - started) / 1000);
  }
  return model;
}

/** Predicted labels and feature-layer activations, in batches (awaited reads). */
export async function classify(model: tf.LayersModel, images: Float32Array[], batchSize = 250): Promise<Classification> {
  const probe = tf.model({ inputs: model.inputs, outputs: [model.getLayer(FEATURE_LAYER).output as tf.SymbolicTensor, model.outputs[0]] });
  const [, size, , channels] = model.inputs[0].shape as number[];
  const out: Classification = { labels: [], features: [] };
  for (let start = 0; start < images.length; start += batchSize) {
    const x = batchTensor(images.slice(start, start + batchSize), size, channels);
    const [features, probs] = probe.predict(x) as tf.Tensor[];
    const predicted = tf.argMax(probs, 1);
    const [f, p] = await Promise.all([features.data() as Promise<Float32Array>, predicted.data()]);
    tf.dispose([x, features, probs, predicted]);
    const width = f.length / p.length;
    p.forEach((label, i) => {
      out.labels.push(label);
      out.features.push(f.slice(i * width, (i + 1) * width));
    });
  }
  return out;
}

/** Share of `predicted` equal to `expected`. */
export function accuracy(predicted: number[], expected: number[]): number {
  return predicted.filter((p, i) => p === expected[i]).length / expected.length;
}

/** Share of the examples of class `k` (by `expected`) that are read as `k` (0 when there are none). */
export function classAccuracy(predicted: number[], expected: number[], k: number): number {
  const of = expected.flatMap((e, i) => (e === k ? [predicted[i] === k] : []));
  return of.filter(Boolean).length / Math.max(1, of.length);
}
