import * as tf from '@tensorflow/tfjs';
import { readLayout, toMnistFrame } from '../data/captioned-digits';
import { DIGIT_PIXELS, DIGIT_SIZE } from '../data/mnist-split';
import { FEATURE_LAYER } from '../eval/digit-classifier';
import type { ModelConfig } from '../model/config';

/**
 * The "it reads as…" meter: the evaluation's digit classifier (src/eval/digit-classifier.ts, trained
 * by `npm run eval`, served from public/models/digit-classifier) run on x̂0, so the page can show which
 * digit the model's current guess reads as, step by step; its feature layer is the memorisation
 * check's embedding. It fits 28×28 grey models, and the text model's grey pictures of one digit at a
 * size and a place, whose ink it frames as an MNIST digit first (as the eval does). Made once by the
 * Engine; the page says at start-up where the classifier is (`locate`); until then, and when it
 * cannot be loaded, it reads nothing.
 */
export class DigitMeter {
  private source: string | tf.io.IOHandler | null = null;
  private model: Promise<tf.LayersModel | null> | null = null;
  /** The classifier once it is loaded (for the synchronous warm-up pass). */
  private loaded: tf.LayersModel | null = null;
  /** The classifier cut at its feature layer. */
  private embedding: tf.LayersModel | null = null;

  /** Whether the meter can read a model's images: 28×28, one channel (digits), or a grey text model's (captioned digits). */
  static fits(config: Pick<ModelConfig, 'imageSize' | 'inChannels'> & { kind?: string }): boolean {
    return config.inChannels === 1 && (config.imageSize === DIGIT_SIZE || config.kind === 'text-unet');
  }

  /** Where the classifier is (a URL or an IO handler); starts loading it. */
  locate(source: string | tf.io.IOHandler): void {
    this.source = source;
    this.model = null;
    void this.load();
  }

  /** The meter for a model's images: this one when it fits them, else null. */
  for(config: Pick<ModelConfig, 'imageSize' | 'inChannels'> & { kind?: string }): DigitMeter | null {
    return this.source !== null && DigitMeter.fits(config) ? this : null;
  }

  /** Loads the classifier (once); resolves to null when there is none or it cannot be loaded (the page then shows no meter). */
  load(): Promise<tf.LayersModel | null> {
    const source = this.source;
    if (source === null) return Promise.resolve(null);
    this.model ??= tf.loadLayersModel(source).then(
      (m) => (this.loaded = m),
      () => null,
    );
    return this.model;
  }

  /** The GPU warm-up's pass: runs the classifier on x0 and frees the result unread (nothing before it loaded). */
  warm(x0: tf.Tensor): void {
    const model = this.loaded;
    const digits = x0.shape[1] === DIGIT_SIZE ? x0 : tf.zeros([x0.shape[0], DIGIT_SIZE, DIGIT_SIZE, 1]);
    if (model) tf.dispose(tf.tidy(() => model.predict(tf.clipByValue(digits, -1, 1)) as tf.Tensor));
    if (digits !== x0) digits.dispose();
  }

  /** Pictures larger than a digit [B, S, S, 1], each one's ink framed as an MNIST digit [B, 28, 28, 1] (a blank picture stays blank). */
  private static async framed(x0: tf.Tensor): Promise<tf.Tensor> {
    const [b, size] = x0.shape;
    const values = (await x0.data()) as Float32Array;
    const out = new Float32Array(b * DIGIT_PIXELS).fill(-1);
    for (let i = 0; i < b; i++) {
      const picture = values.subarray(i * size * size, (i + 1) * size * size).map((v) => (Math.min(1, Math.max(-1, v)) + 1) / 2);
      const read = readLayout(picture, size);
      if (read)
        out.set(
          toMnistFrame(picture, size, read.box).map((v) => 2 * v - 1),
          i * DIGIT_PIXELS,
        );
    }
    return tf.tensor4d(out, [b, DIGIT_SIZE, DIGIT_SIZE, 1]);
  }

  /**
   * The ten class probabilities of each image of x0 [B, 28, 28, 1] — or [B, S, S, 1], its ink framed
   * first — (values in [−1, 1]), [B·10]; null without a classifier.
   */
  async read(x0: tf.Tensor): Promise<Float32Array | null> {
    const model = await this.load();
    if (!model) return null;
    const digits = x0.shape[1] === DIGIT_SIZE ? x0 : await DigitMeter.framed(x0);
    const probs = tf.tidy(() => model.predict(tf.clipByValue(digits, -1, 1)) as tf.Tensor);
    try {
      return (await probs.data()) as Float32Array;
    } finally {
      probs.dispose();
      if (digits !== x0) digits.dispose();
    }
  }

  /**
   * The classifier's feature layer (the embedding the eval's Fréchet distance uses) for x
   * [B, 28, 28, 1] in [−1, 1]: [B·width] and the width; null without a classifier.
   */
  async features(x: tf.Tensor): Promise<{ values: Float32Array; width: number } | null> {
    const model = await this.load();
    if (!model) return null;
    this.embedding ??= tf.model({ inputs: model.inputs, outputs: model.getLayer(FEATURE_LAYER).output });
    const embedding = this.embedding;
    const out = tf.tidy(() => embedding.predict(tf.clipByValue(x, -1, 1)) as tf.Tensor);
    try {
      return { values: (await out.data()) as Float32Array, width: out.shape[1]! };
    } finally {
      out.dispose();
    }
  }
}
