import { isTextUNet, isUNet2D, type ModelConfig } from '../config';
import type { Plan } from '../plan';
import { playgroundPlan } from './playground';
import { textUNetPlan } from './text-unet';
import { unet2dPlan } from './unet2d';

const plans = new WeakMap<ModelConfig, Plan>();

/** The layer plan of a model config (made once per config object). */
export function planOf(c: ModelConfig): Plan {
  let plan = plans.get(c);
  if (!plan) {
    plan = isUNet2D(c) ? unet2dPlan(c) : isTextUNet(c) ? textUNetPlan(c) : playgroundPlan(c);
    plans.set(c, plan);
  }
  return plan;
}

/** Whether a model can draw "anything" (and so take guidance): unconditional, or trained with a "no label" class — diffusers' class-conditional UNet2DModel is not. */
export const drawsUnlabelled = (c: ModelConfig): boolean => planOf(c).labels?.noLabel !== null;
