import { ModelConfigError } from './config-error';
import { parseTextUNetConfig, type TextUNetConfig } from './text-unet-config';
import { parseUNet2DConfig, type UNet2DConfig } from './unet2d-config';

/** The U-Net's architecture, one typed object (it travels with the weights in model.json). */
export interface UNetConfig {
  /** Side of the square input: 16, 28, 32 or 64. */
  imageSize: number;
  /** 1 (grayscale) or 3 (RGB). */
  inChannels: number;
  /** Width of the first level; the time embedding is 4× this. */
  baseChannels: number;
  /** Width multiplier per level; the resolution halves between levels (28 → 14 → 7 for three). */
  channelMults: number[];
  /** Residual blocks per level, on the way down and on the way up. */
  numResBlocks: number;
  /** Self-attention between the two middle residual blocks (lowest resolution). */
  attention: boolean;
  /** Dropout rate inside residual blocks during training. */
  dropout: number;
  /** Number of classes for conditioning; 0 is unconditional. Index numClasses is "no label". */
  numClasses: number;
  /** GroupNorm groups (min(groups, channels) per layer). */
  groups: number;
  /** How to halve the resolution: 2×2 average pooling, or a stride-2 3×3 conv. */
  downsample: 'avgpool' | 'conv';
}

export const DEFAULT_UNET_CONFIG: UNetConfig = {
  imageSize: 28,
  inChannels: 1,
  baseChannels: 24,
  channelMults: [1, 2, 4],
  numResBlocks: 1,
  attention: false,
  dropout: 0,
  numClasses: 10,
  groups: 8,
  downsample: 'avgpool',
};

/** GroupNorm groups of a playground U-Net layer (as tools/torch/unet.py): min(groups, channels). */
export const groupCount = (groups: number, channels: number): number => Math.min(groups, channels);

export const IMAGE_SIZES = [16, 28, 32, 64] as const;

export { ModelConfigError } from './config-error';

/** Any model the engine runs: the playground's own U-Net, diffusers' UNet2DModel, or the text-conditioned U-Net. */
export type ModelConfig = UNetConfig | UNet2DConfig | TextUNetConfig;

export const isUNet2D = (c: ModelConfig): c is UNet2DConfig => 'kind' in c && c.kind === 'unet2d';
export const isTextUNet = (c: ModelConfig): c is TextUNetConfig => 'kind' in c && c.kind === 'text-unet';

/**
 * A model config from a file: a diffusers config.json (it names its `_class_name`), a text
 * model's (kind 'text-unet') or the playground's own; checked field by field, throwing a ModelConfigError that names the field.
 */
export function validateModelConfig(raw: unknown): ModelConfig {
  if (typeof raw === 'object' && raw !== null && '_class_name' in raw) return parseUNet2DConfig(raw);
  if (typeof raw === 'object' && raw !== null && 'kind' in raw && raw.kind === 'text-unet') return parseTextUNetConfig(raw);
  return validateUNetConfig(raw);
}

/** Checks a config (perhaps from a file) field by field; throws a ModelConfigError naming the field. */
export function validateUNetConfig(raw: unknown): UNetConfig {
  if (typeof raw !== 'object' || raw === null) throw new ModelConfigError('model config must be an object');
  const c = raw as Record<string, unknown>;
  const int = (k: string, min: number, max: number): number => {
    const v = c[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
      throw new ModelConfigError(`model config field '${k}' must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
    return v;
  };
  const imageSize = int('imageSize', 1, 1024);
  if (!(IMAGE_SIZES as readonly number[]).includes(imageSize))
    throw new ModelConfigError(`model config field 'imageSize' must be one of ${IMAGE_SIZES.join(', ')}, got ${imageSize}`);
  const inChannels = int('inChannels', 1, 3);
  if (inChannels === 2) throw new ModelConfigError(`model config field 'inChannels' must be 1 or 3, got 2`);
  const mults = c.channelMults;
  if (!Array.isArray(mults) || mults.length < 1 || mults.length > 5 || !mults.every((m) => Number.isInteger(m) && m >= 1 && m <= 16))
    throw new ModelConfigError(`model config field 'channelMults' must be 1–5 integers in [1, 16], got ${JSON.stringify(mults)}`);
  if (imageSize % 2 ** (mults.length - 1) !== 0)
    throw new ModelConfigError(
      `imageSize ${imageSize} cannot be halved ${mults.length - 1} times (channelMults has ${mults.length} levels)`,
    );
  if (typeof c.attention !== 'boolean')
    throw new ModelConfigError(`model config field 'attention' must be true or false, got ${JSON.stringify(c.attention)}`);
  if (typeof c.dropout !== 'number' || !(c.dropout >= 0 && c.dropout < 1))
    throw new ModelConfigError(`model config field 'dropout' must be a number in [0, 1), got ${JSON.stringify(c.dropout)}`);
  if (c.downsample !== 'avgpool' && c.downsample !== 'conv')
    throw new ModelConfigError(`model config field 'downsample' must be 'avgpool' or 'conv', got ${JSON.stringify(c.downsample)}`);
  const config: UNetConfig = {
    imageSize,
    inChannels,
    baseChannels: int('baseChannels', 1, 1024),
    channelMults: mults as number[],
    numResBlocks: int('numResBlocks', 1, 8),
    attention: c.attention,
    dropout: c.dropout,
    numClasses: int('numClasses', 0, 100000),
    groups: int('groups', 1, 1024),
    downsample: c.downsample,
  };
  for (const w of [config.baseChannels, ...config.channelMults.map((m) => m * config.baseChannels)]) {
    if (w % Math.min(config.groups, w) !== 0) throw new ModelConfigError(`width ${w} is not divisible by groups ${config.groups}`);
  }
  return config;
}
