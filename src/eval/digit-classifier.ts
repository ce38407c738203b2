import * as tf from '@tensorflow/tfjs';
import { DIGIT_PIXELS, DIGIT_SIZE } from '../data/mnist-split';
import { GaussianRng } from '../diffusion/random';

/*
 * The evaluation's MNIST digit classifier: a small conv net (3 × [3×3 conv, ReLU, 2×2 max-pool],
 * then a 128-unit ReLU feature layer and a 10-way softmax; ~98k weights, ~390 KB). Its accuracy on
 * generated digits says whether they show the requested label, and its feature layer is the
 * embedding the Fréchet distance is measured in (the role Inception-v3's pool features play in FID).
 * Inputs are images in [−1, 1], like the diffusion model's samples. The page ships it
 * (public/models/digit-classifier) as its "it reads as…" meter and the memorisation check's
 * embedding (src/worker/meter.ts); `npm run eval` trains it (scripts/classifier.ts saves and loads it).
 */

/** The 128-wide layer whose activations are the embedding (Fréchet distance, memorisation check). */
export const FEATURE_LAYER = 'features';
const CLASSES = 10;
/** Training shifts every digit by up to this many pixels in x and y, filling with background. */
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
export function buildClassifier(seed: number): tf.Sequential {
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
  return tf.sequential({
    layers: [
      conv(16, 0, [DIGIT_SIZE, DIGIT_SIZE, 1]),
      tf.layers.maxPooling2d({ poolSize: 2 }), // 14×14
      conv(32, 1),
      tf.layers.maxPooling2d({ poolSize: 2 }), // 7×7
      conv(64, 2),
      tf.layers.maxPooling2d({ poolSize: 2 }), // 3×3
      tf.layers.flatten(),
      tf.layers.dense({ units: 128, activation: 'relu', kernelInitializer: he(3), name: FEATURE_LAYER }),
      tf.layers.dropout({ rate: 0.3, seed }),
      tf.layers.dense({ units: CLASSES, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 4 }) }),
    ],
  });
}

/** `image` translated by (dx, dy) pixels, the uncovered border filled with −1 (background). */
export function shift(image: Float32Array, dx: number, dy: number): Float32Array {
  const out = new Float32Array(DIGIT_PIXELS).fill(-1);
  for (let y = Math.max(0, dy); y < Math.min(DIGIT_SIZE, DIGIT_SIZE + dy); y++)
    for (let x = Math.max(0, dx); x < Math.min(DIGIT_SIZE, DIGIT_SIZE + dx); x++)
      out[y * DIGIT_SIZE + x] = image[(y - dy) * DIGIT_SIZE + x - dx];
  return out;
}

/** One batch tensor [N, 28, 28, 1] from flat images. */
function batchTensor(images: Float32Array[]): tf.Tensor4D {
  const flat = new Float32Array(images.length * DIGIT_PIXELS);
  images.forEach((image, i) => flat.set(image, i * DIGIT_PIXELS));
  return tf.tensor4d(flat, [images.length, DIGIT_SIZE, DIGIT_SIZE, 1]);
}

/**
 * Trains a fresh classifier with Adam on categorical cross-entropy, lr 10⁻³ and then 10⁻⁴ (a fresh
 * Adam) for the last quarter of the epochs. Every epoch sees all images once, in a seeded random
 * order, each shifted by a random whole (dx, dy) ∈ [−2, 2]².
 */
export async function trainClassifier(images: Float32Array[], labels: number[], options: TrainOptions): Promise<tf.Sequential> {
  const model = buildClassifier(options.seed);
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  const decayAt = Math.ceil(0.75 * options.epochs);
  const rng = new GaussianRng(options.seed);
  const offset = () => Math.floor(rng.uniform() * (2 * MAX_SHIFT + 1)) - MAX_SHIFT;
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
    const x = batchTensor(order.map((i) => shift(images[i], offset(), offset())));
    const y = tf.tidy(() =>
      tf.oneHot(
        tf.tensor1d(
          order.map((i) => labels[i]),
          'int32',
        ),
        CLASSES,
      ),
    );
    const history = await model.fit(x, y, { epochs: 1, batchSize: options.batchSize, shuffle: false, verbose: 0 });
    tf.dispose([x, y]);
    options.onEpoch?.(epoch, history.history.loss[0] as number, (performance.now() - started) / 1000);
  }
  return model;
}

/** Predicted labels and feature-layer activations, in batches (awaited reads). */
export async function classify(model: tf.LayersModel, images: Float32Array[], batchSize = 250): Promise<Classification> {
  const probe = tf.model({ inputs: model.inputs, outputs: [model.getLayer(FEATURE_LAYER).output as tf.SymbolicTensor, model.outputs[0]] });
  const out: Classification = { labels: [], features: [] };
  for (let start = 0; start < images.length; start += batchSize) {
    const x = batchTensor(images.slice(start, start + batchSize));
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
