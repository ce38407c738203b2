import { crossAttentionHeads, type TextUNetConfig } from '../text-unet-config';
import type { Plan } from '../plan';
import { levelsPlan } from './playground';

/**
 * The text-conditioned U-Net (tools/torch/text_unet.py is its twin): the playground U-Net's levels
 * with cross-attention to the text after each residual block of `crossAttentionLevels` and in the
 * middle, and the text encoder's pooled state added to the timestep embedding.
 */
export function textUNetPlan(c: TextUNetConfig): Plan {
  const { text } = c;
  return {
    ...levelsPlan(c, (place, level, ch, size, norm) =>
      place === 'mid_xattn' || c.crossAttentionLevels.includes(level)
        ? [{ op: 'xattn', name: place, norm: norm(`${place}.norm`, ch), ch, heads: crossAttentionHeads(c, ch), size }]
        : [],
    ),
    labels: null,
    text: {
      name: 'text',
      vocabulary: text.vocabulary.length,
      maxTokens: text.maxTokens,
      dim: text.dim,
      layers: text.layers,
      heads: text.heads,
      proj: 'text_proj',
    },
  };
}
