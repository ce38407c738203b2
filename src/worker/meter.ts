import * as tf from '@tensorflow/tfjs';
import type { UNetConfig } from '../model/config';

/**
 * The "it reads as…" meter: the evaluation's digit classifier (scripts/classifier.ts, trained by
 * `npm run eval`, served from public/models/digit-classifier) run on x̂0, so the page can show which
 * digit the model's current guess reads as, step by step. It fits 28×28 grey models only.
 */
export class DigitMeter {
  private model: Promise<tf.LayersModel | null> | null = null;
  /** The classifier once it is loaded (for the synchronous warm-up pass). */
  private loaded: tf.LayersModel | null = null;
  /** The classifier cut at its 128-wide 'features' layer (the memorisation check's embedding). */
  private embedding: tf.LayersModel | null = null;

  constructor(private readonly url: string | tf.io.IOHandler) {}

  /** Whether the meter can read a model's images: 28×28, one channel (digits). */
  static fits(config: Pick<UNetConfig, 'imageSize' | 'inChannels'>): boolean {
    return config.imageSize === 28 && config.inChannels === 1;
  }

  /** Starts loading the classifier (once); resolves to null when it cannot be loaded (the page then shows no meter). */
  load(): Promise<tf.LayersModel | null> {
    this.model ??= tf.loadLayersModel(this.url).then(
      (m) => (this.loaded = m),
      () => null,
    );
    return this.model;
  }

  /** The GPU warm-up's pass: runs the classifier on x0 and frees the result unread (nothing before it loaded). */
  warm(x0: tf.Tensor): void {
    if (this.loaded) tf.dispose(tf.tidy(() => this.loaded!.predict(tf.clipByValue(x0, -1, 1)) as tf.Tensor));
  }

  /** The ten class probabilities of each image of x0 [B, 28, 28, 1] (values in [−1, 1]), [B·10]; null without a classifier. */
  async read(x0: tf.Tensor): Promise<Float32Array | null> {
    const model = await this.load();
    if (!model) return null;
    const probs = tf.tidy(() => model.predict(tf.clipByValue(x0, -1, 1)) as tf.Tensor);
    try {
      return (await probs.data()) as Float32Array;
    } finally {
      probs.dispose();
    }
  }

  /**
   * The classifier's 'features' layer (the embedding the eval's Fréchet distance uses) for x
   * [B, 28, 28, 1] in [−1, 1]: [B·width] and the width; null without a classifier.
   */
  async features(x: tf.Tensor): Promise<{ values: Float32Array; width: number } | null> {
    const model = await this.load();
    if (!model) return null;
    this.embedding ??= tf.model({ inputs: model.inputs, outputs: model.getLayer('features').output as tf.SymbolicTensor });
    const out = tf.tidy(() => this.embedding!.predict(tf.clipByValue(x, -1, 1)) as tf.Tensor);
    try {
      return { values: (await out.data()) as Float32Array, width: out.shape[1]! };
    } finally {
      out.dispose();
    }
  }
}
