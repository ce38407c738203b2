import type { UNetConfig } from '../model/config';

/** Model sizes a person can train in a browser tab. */
export type ModelPreset = 'tiny' | 'small';

/**
 * The U-Net for a preset at an image size: 'tiny' (16 channels, two levels) trains fastest; 'small'
 * (32 channels, one more level from 28 px up) draws cleaner shapes. Bigger pictures get one more
 * level so the lowest resolution stays around 7–8 px.
 */
export function presetConfig(preset: ModelPreset, imageSize: number, inChannels: number, numClasses: number): UNetConfig {
  const levels = (imageSize >= 64 ? 1 : 0) + (preset === 'small' && imageSize >= 28 ? 3 : 2);
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
