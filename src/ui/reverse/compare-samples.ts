import { SAMPLER_NAMES, type SamplerName } from '../../pipeline/defaults';
import type { CompareFrame, ImageBatch } from '../../protocol';
import { concatBatches } from '../pixels';

/** Samplers side by side: each one's latest frame. */
export type Frames = Partial<Record<SamplerName, CompareFrame>>;

/** Every sampler's samples once each has reached the clean image, in SAMPLER_NAMES' order (null: not all have). */
export function comparisonSamples(frames: Frames): ImageBatch | null {
  const last = SAMPLER_NAMES.map((name) => frames[name]);
  return last.every((f) => f?.at === null) ? concatBatches(last.map((f) => f!.xt)) : null;
}
