import * as tf from '@tensorflow/tfjs';
import { isTextUNet } from '../model/config';
import type { UNet } from '../model/model';
import type { EncodedText } from '../model/unet';
import { tokenize } from '../text/tokenizer';

/**
 * A text model's condition for a run: the prompts (one per image), encoded once — the text encoder's
 * output is the same at every step — with the unconditional input of classifier-free guidance,
 * the empty prompt or a negative prompt (Ho & Salimans 2022; a negative prompt is guidance away from
 * it instead of away from "anything"). The caller disposes it.
 */
export class TextCondition {
  /** The prompts' encoding, the unconditional one, and both stacked [cond; uncond] for one batched pass. */
  readonly cond: EncodedText;
  readonly uncond: EncodedText;
  readonly pair: EncodedText;

  constructor(model: UNet, prompts: string[], negativePrompt = '') {
    const c = model.config;
    if (!isTextUNet(c)) throw new RangeError('prompts need a text-conditioned model');
    const ids = (ps: string[]) =>
      tf.tensor2d(
        ps.map((p) => tokenize(p, c.text.vocabulary, c.text.maxTokens).ids),
        undefined,
        'int32',
      );
    const encode = (ps: string[]) => tf.tidy(() => model.encode(ids(ps)));
    this.cond = encode(prompts);
    this.uncond = encode(prompts.map(() => negativePrompt));
    this.pair = tf.tidy(() => ({
      tokens: tf.concat([this.cond.tokens, this.uncond.tokens]),
      mask: tf.concat([this.cond.mask, this.uncond.mask]),
      pooled: tf.concat([this.cond.pooled, this.uncond.pooled]),
    }));
  }

  dispose(): void {
    for (const e of [this.cond, this.uncond, this.pair]) tf.dispose([e.tokens, e.mask, e.pooled]);
  }
}
