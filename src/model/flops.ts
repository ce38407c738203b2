import type { ModelConfig } from './config';
import { planFlops, planParams, type FlopCount } from './plan';
import { planOf } from './plans';

export type { FlopCount } from './plan';

/** FLOPs of one forward pass at the given batch size (everything scales linearly with the batch); see planFlops. */
export const unetFlops = (c: ModelConfig, batch = 1): FlopCount => planFlops(planOf(c), batch);

/** Number of trainable parameters (the same as UNet.numParams, without building the model). */
export const unetParams = (c: ModelConfig): number => planParams(planOf(c));
