import * as tf from '@tensorflow/tfjs';
import { isTextUNet, isUNet2D, validateUNetConfig, type ModelConfig } from './config';
import { applyUNet, encodeText, initWeights, weightSpecs, type ApplyOptions, type EncodedText } from './unet';

/** A U-Net with its weights as trainable tf.Variables. */
export class UNet {
  readonly config: ModelConfig;
  /** Keyed by the PyTorch mirror's parameter names (e.g. 'down.0.0.conv1.weight'). */
  readonly weights: Map<string, tf.Variable>;

  /** Takes ownership of `tensors` (shapes must already match the config; see io.ts). */
  constructor(config: ModelConfig, tensors: Map<string, tf.Tensor>) {
    this.config = isUNet2D(config) || isTextUNet(config) ? config : validateUNetConfig(config);
    this.weights = new Map();
    for (const spec of weightSpecs(this.config)) {
      const t = tensors.get(spec.name);
      if (!t) throw new Error(`missing weight '${spec.name}'`);
      this.weights.set(spec.name, tf.variable(t, true));
      t.dispose();
    }
  }

  /** A freshly initialised model (deterministic for a seed). */
  static create(config: ModelConfig, seed = 0): UNet {
    const valid = isUNet2D(config) || isTextUNet(config) ? config : validateUNetConfig(config);
    return new UNet(valid, initWeights(valid, seed));
  }

  /** ε_θ(x_t, t[, label]); see applyUNet. */
  predict(x: tf.Tensor, t: tf.Tensor, options?: ApplyOptions): tf.Tensor {
    return applyUNet(this.config, this.weights, x, t, options);
  }

  /** A text model's prompts (token ids [B, L], int32) encoded once for a run's steps; the caller owns the tensors. */
  encode(ids: tf.Tensor): EncodedText {
    return encodeText(this.config, this.weights, ids);
  }

  get numParams(): number {
    let n = 0;
    for (const v of this.weights.values()) n += v.size;
    return n;
  }

  /** Copies the weights into another model of the same config (e.g. EMA ← model). */
  copyTo(other: UNet): void {
    for (const [name, v] of this.weights) other.weights.get(name)!.assign(v);
  }

  dispose(): void {
    for (const v of this.weights.values()) v.dispose();
    this.weights.clear();
  }
}
