import * as tf from '@tensorflow/tfjs';
import { readLayout, toMnistFrame } from '../data/captioned-digits';
import { DIGIT_PIXELS, DIGIT_SIZE } from '../data/mnist-split';
import { EMOJI_CLASSIFIER, FEATURE_LAYER } from '../eval/classifier';
import type { ModelConfig } from '../model/config';

type Fits = Pick<ModelConfig, 'imageSize' | 'inChannels' | 'numClasses'> & { kind?: string };

/**
 * The "it reads as…" meter: one of the evaluation's classifiers (src/eval/classifier.ts, served
 * from public/models/) run on x̂0, so the page can show which class the model's current guess reads
 * as, step by step; its feature layer is the memorisation check's embedding. Two are made (Meters):
 *  - digits: 28×28 grey models, and the text model's grey pictures of one digit at a size and a
 *    place, whose ink it frames as an MNIST digit first (as the eval does);
 *  - emoji: 32×32 colour models of the emoji's nine categories (the shipped emoji model and what is
 *    fine-tuned from it), read by the emoji category classifier.
 * The page says at start-up where each classifier is (`locate`); until then, and when it cannot be
 * loaded, a meter reads nothing.
 */
export class ClassifierMeter {
  private source: string | tf.io.IOHandler | null = null;
  private model: Promise<tf.LayersModel | null> | null = null;
  /** The classifier once it is loaded (for the synchronous warm-up pass). */
  private loaded: tf.LayersModel | null = null;
  /** The classifier cut at its feature layer. */
  private embedding: tf.LayersModel | null = null;

  constructor(
    /** The images it reads: their side and channels. */
    readonly size: number,
    readonly channels: number,
    /** Whether it reads the samples of a model of this config (as a meter; its embedding fits every image of its size). */
    private readonly readsModel: (config: Fits) => boolean,
  ) {}

  /** Whether this meter reads a model's images. */
  fits(config: Fits): boolean {
    return this.readsModel(config);
  }

  /** Where the classifier is (a URL or an IO handler); starts loading it. */
  locate(source: string | tf.io.IOHandler): void {
    this.source = source;
    this.model = null;
    void this.load();
  }

  /** Whether it has a classifier to load. */
  get located(): boolean {
    return this.source !== null;
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
    const input = x0.shape[1] === this.size ? x0 : tf.zeros([x0.shape[0], this.size, this.size, this.channels]);
    if (model) tf.dispose(tf.tidy(() => model.predict(tf.clipByValue(input, -1, 1)) as tf.Tensor));
    if (input !== x0) input.dispose();
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
   * The class probabilities of each image of x0 [B, S, S, C] in [−1, 1] — a grey picture larger than
   * a digit has its ink framed first — [B·K]; null without a classifier.
   */
  async read(x0: tf.Tensor): Promise<Float32Array | null> {
    const model = await this.load();
    if (!model) return null;
    const input = x0.shape[1] === this.size ? x0 : await ClassifierMeter.framed(x0);
    const probs = tf.tidy(() => model.predict(tf.clipByValue(input, -1, 1)) as tf.Tensor);
    try {
      return (await probs.data()) as Float32Array;
    } finally {
      probs.dispose();
      if (input !== x0) input.dispose();
    }
  }

  /**
   * The classifier's feature layer (the embedding the eval's Fréchet distance uses) for x
   * [B, S, S, C] (its size and channels) in [−1, 1]: [B·width] and the width; null without a classifier.
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

/** The page's meters: the digits' and the emoji's; a model is read by the one that fits it, if any. */
export class Meters {
  readonly digits = new ClassifierMeter(DIGIT_SIZE, 1, (c) => c.inChannels === 1 && (c.imageSize === DIGIT_SIZE || c.kind === 'text-unet'));
  readonly emoji = new ClassifierMeter(32, 3, (c) => c.inChannels === 3 && c.imageSize === 32 && c.numClasses === EMOJI_CLASSIFIER.classes);

  /** The meter that reads a model's samples (and has a classifier to), or null. */
  for(config: Fits): ClassifierMeter | null {
    return [this.digits, this.emoji].find((m) => m.located && m.fits(config)) ?? null;
  }

  /** The meter whose feature layer embeds images of this size and colour (the memorisation check's), or null. */
  embedding(size: number, channels: number): ClassifierMeter | null {
    return [this.digits, this.emoji].find((m) => m.located && m.size === size && m.channels === channels) ?? null;
  }
}
