import { MAX_CAPTION_WORDS } from '../data/captions';
import type { UNetConfig } from '../model/config';
import { parseTextUNetConfig, type TextUNetConfig } from '../model/text-unet-config';

/** Model sizes a person can train in a browser tab. */
export type ModelPreset = 'tiny' | 'small';

/**
 * The U-Net for a preset at an image size: 'tiny' (16 channels) trains fastest, 'small' (32 channels)
 * draws cleaner shapes. Both halve the resolution down to 7–8 px (16 px: two levels; 28 and 32:
 * three; 64: four). Measured by `npm run bench:ttq` (docs/quality.md): with a 7×7 level the tiny model draws a
 * recognisable digit in 89 % of samples after ten minutes, against 62 % with its lowest level at
 * 14×14 (and 66 % against 27 % after five), at the same images/s: the low level is where a
 * convolution sees the whole digit.
 */
export function presetConfig(preset: ModelPreset, imageSize: number, inChannels: number, numClasses: number): UNetConfig {
  const levels = imageSize >= 64 ? 4 : imageSize >= 28 ? 3 : 2;
  return {
    imageSize,
    inChannels,
    baseChannels: preset === 'tiny' ? 16 : 32,
    channelMults: [1, 2, 2, 2].slice(0, levels),
    numResBlocks: 1,
    attention: false,
    dropout: 0,
    numClasses,
    groups: 8,
    downsample: 'avgpool',
  };
}

/**
 * The text-conditioned U-Net for a preset, trained on captions: the preset's levels and widths,
 * cross-attention to the captions at every level below full resolution and in the middle (where a
 * convolution sees the whole picture, as the shipped captioned-digits model has it at its lowest
 * two), and a small text encoder — 'tiny': 32 wide, one layer; 'small': 64 wide, two, as the
 * shipped one — reading <start> and MAX_CAPTION_WORDS words. Its vocabulary: the captions' words.
 */
export function textPresetConfig(preset: ModelPreset, imageSize: number, inChannels: number, vocabulary: string[]): TextUNetConfig {
  const { baseChannels, channelMults } = presetConfig(preset, imageSize, inChannels, 0);
  if (vocabulary.length <= 2) throw new RangeError('none of the captions has a word: a text model needs words to learn');
  return parseTextUNetConfig({
    kind: 'text-unet',
    imageSize,
    inChannels,
    baseChannels,
    channelMults,
    numResBlocks: 1,
    crossAttentionLevels: channelMults.map((_, level) => level).slice(1),
    headChannels: 32,
    attention: false,
    dropout: 0,
    groups: 8,
    downsample: 'avgpool',
    numClasses: 0,
    text: {
      vocabulary,
      maxTokens: MAX_CAPTION_WORDS + 1,
      dim: preset === 'tiny' ? 32 : 64,
      layers: preset === 'tiny' ? 1 : 2,
      heads: preset === 'tiny' ? 2 : 4,
    },
  });
}
