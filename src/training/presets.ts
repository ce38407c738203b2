import type { UNetConfig } from '../model/config';

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
