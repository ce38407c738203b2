import { ModelConfigError } from './config-error';

/**
 * The text-conditioned U-Net (plans/text-unet.ts; tools/torch/text_unet.py is its PyTorch twin,
 * with this same config): the playground U-Net's levels plus a text encoder — a small transformer
 * over the prompt's word tokens, its vocabulary part of the config — whose token states feed
 * cross-attention after the residual blocks of `crossAttentionLevels` and in the middle, and whose
 * pooled state (at <start>) is added to the timestep embedding. `numClasses` is 0 as on every model
 * without class labels: the text is the condition.
 */
export interface TextEncoderConfig {
  /** Word per token id; ids 0 and 1 are <pad> and <start> (src/text/tokenizer.ts). */
  vocabulary: string[];
  /** Tokens the encoder reads, <start> included. */
  maxTokens: number;
  dim: number;
  layers: number;
  heads: number;
}

export interface TextUNetConfig {
  kind: 'text-unet';
  imageSize: number;
  inChannels: number;
  baseChannels: number;
  channelMults: number[];
  numResBlocks: number;
  /** Levels (0 = full resolution) whose residual blocks are each followed by cross-attention. */
  crossAttentionLevels: number[];
  /** Channels per cross-attention head (heads = max(1, channels / headChannels)). */
  headChannels: number;
  /** Self-attention between the middle blocks, before the middle cross-attention. */
  attention: boolean;
  dropout: number;
  groups: number;
  downsample: 'avgpool' | 'conv';
  numClasses: 0;
  text: TextEncoderConfig;
}

/** A text model's config from a file, checked field by field; a ModelConfigError names the field. */
export function parseTextUNetConfig(raw: unknown): TextUNetConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ModelConfigError('model config must be an object');
  const c = raw as Record<string, unknown>;
  const int = (o: Record<string, unknown>, k: string, min: number, max: number, where = ''): number => {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
      throw new ModelConfigError(`model config field '${where}${k}' must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
    return v;
  };
  const ints = (k: string, min: number, max: number, count: [number, number]): number[] => {
    const v = c[k];
    if (!Array.isArray(v) || v.length < count[0] || v.length > count[1] || !v.every((m) => Number.isInteger(m) && m >= min && m <= max))
      throw new ModelConfigError(
        `model config field '${k}' must be ${count[0]}–${count[1]} integers in [${min}, ${max}], got ${JSON.stringify(v)}`,
      );
    return v as number[];
  };
  const imageSize = int(c, 'imageSize', 8, 256);
  const inChannels = int(c, 'inChannels', 1, 3);
  if (inChannels === 2) throw new ModelConfigError(`model config field 'inChannels' must be 1 or 3, got 2`);
  const channelMults = ints('channelMults', 1, 16, [1, 5]);
  if (imageSize % 2 ** (channelMults.length - 1) !== 0)
    throw new ModelConfigError(
      `imageSize ${imageSize} cannot be halved ${channelMults.length - 1} times (channelMults has ${channelMults.length} levels)`,
    );
  const crossAttentionLevels = ints('crossAttentionLevels', 0, channelMults.length - 1, [0, channelMults.length]);
  if (typeof c.attention !== 'boolean') throw new ModelConfigError(`model config field 'attention' must be true or false`);
  if (typeof c.dropout !== 'number' || !(c.dropout >= 0 && c.dropout < 1))
    throw new ModelConfigError(`model config field 'dropout' must be a number in [0, 1), got ${JSON.stringify(c.dropout)}`);
  if (c.downsample !== 'avgpool' && c.downsample !== 'conv')
    throw new ModelConfigError(`model config field 'downsample' must be 'avgpool' or 'conv', got ${JSON.stringify(c.downsample)}`);
  const t = c.text;
  if (t === null || typeof t !== 'object' || Array.isArray(t)) throw new ModelConfigError(`model config field 'text' must be an object`);
  const text = t as Record<string, unknown>;
  const vocabulary = text.vocabulary;
  if (!Array.isArray(vocabulary) || vocabulary.length < 3 || vocabulary.length > 100000 || !vocabulary.every((w) => typeof w === 'string'))
    throw new ModelConfigError(`model config field 'text.vocabulary' must be a list of 3 or more words`);
  if (vocabulary[0] !== '<pad>' || vocabulary[1] !== '<start>')
    throw new ModelConfigError(`model config field 'text.vocabulary' must begin with '<pad>' and '<start>'`);
  if (new Set(vocabulary).size !== vocabulary.length) throw new ModelConfigError(`model config field 'text.vocabulary' lists a word twice`);
  const dim = int(text, 'dim', 1, 4096, 'text.');
  const heads = int(text, 'heads', 1, 64, 'text.');
  if (dim % heads !== 0) throw new ModelConfigError(`text.dim ${dim} is not divisible by text.heads ${heads}`);
  const config: TextUNetConfig = {
    kind: 'text-unet',
    imageSize,
    inChannels,
    baseChannels: int(c, 'baseChannels', 1, 1024),
    channelMults,
    numResBlocks: int(c, 'numResBlocks', 1, 8),
    crossAttentionLevels,
    headChannels: int(c, 'headChannels', 1, 4096),
    attention: c.attention,
    dropout: c.dropout,
    groups: int(c, 'groups', 1, 1024),
    downsample: c.downsample,
    numClasses: 0,
    text: {
      vocabulary: vocabulary,
      maxTokens: int(text, 'maxTokens', 2, 512, 'text.'),
      dim,
      layers: int(text, 'layers', 0, 24, 'text.'),
      heads,
    },
  };
  for (const w of [config.baseChannels, ...channelMults.map((m) => m * config.baseChannels)])
    if (w % Math.min(config.groups, w) !== 0) throw new ModelConfigError(`width ${w} is not divisible by groups ${config.groups}`);
  return config;
}

/** Cross-attention heads at a width. */
export const crossAttentionHeads = (c: Pick<TextUNetConfig, 'headChannels'>, channels: number): number =>
  Math.max(1, Math.floor(channels / c.headChannels));
