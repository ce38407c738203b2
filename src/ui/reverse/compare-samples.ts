import { SAMPLER_NAMES, type SamplerName } from '../../pipeline/defaults';
import type { CompareFrame, ImageBatch } from '../../protocol';
import { concatBatches } from '../pixels';

/** Samplers side by side: each one's latest frame. */
export type Frames = Partial<Record<SamplerName, CompareFrame>>;

/** Whether every sampler has reached the clean image. */
export const comparisonDone = (frames: Frames): boolean => SAMPLER_NAMES.every((name) => frames[name]?.at === null);

/** Every sampler's samples once each has reached the clean image, in SAMPLER_NAMES' order (null: not all have). */
export function comparisonSamples(frames: Frames): ImageBatch | null {
  return comparisonDone(frames) ? concatBatches(SAMPLER_NAMES.map((name) => frames[name]!.xt)) : null;
}
