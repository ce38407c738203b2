import * as tf from '@tensorflow/tfjs';
import type { DiffusionConfig } from '../../diffusion/scheduler';
import { isUNet2D } from '../config';
import { classNames, type ModelMetadata } from '../metadata';
import type { UNet } from '../model';
import { planWeights } from '../plan';
import { planOf } from '../plans';
import { toDiffusersConfig } from '../unet2d-config';
import { torchLayout } from './load';
import { writeSafetensors } from './safetensors';
import type { RawTensor } from './tensors';

/** A diffusers model folder, file name → contents: what UNet2DModel.from_pretrained and DDPMScheduler.from_pretrained read. */
export interface DiffusersFolder {
  'config.json': string;
  'diffusion_pytorch_model.safetensors': Uint8Array;
  'scheduler_config.json': string;
  /** A class-conditional model's class names and "no label" class (playground.ts), for the page. */
  'playground.json'?: string;
}

const BETA_SCHEDULES: Record<DiffusionConfig['betaSchedule'], string> = {
  linear: 'linear',
  scaled_linear: 'scaled_linear',
  cosine: 'squaredcos_cap_v2',
};

/** The DDPMScheduler config of the model's noise schedule and prediction type (parseSchedulerConfig reads it back). */
export function toSchedulerConfig(d: DiffusionConfig): Record<string, unknown> {
  return {
    _class_name: 'DDPMScheduler',
    num_train_timesteps: d.numTrainTimesteps,
    beta_schedule: BETA_SCHEDULES[d.betaSchedule],
    ...(d.betaStart !== undefined ? { beta_start: d.betaStart } : {}),
    ...(d.betaEnd !== undefined ? { beta_end: d.betaEnd } : {}),
    prediction_type: d.predictionType,
    variance_type: 'fixed_small',
    clip_sample: true,
    clip_sample_range: 1,
  };
}

/**
 * A UNet2DModel-layout model as a diffusers folder: config.json, its weights as float32 safetensors
 * in PyTorch's layouts (conv HWIO → OIHW, linear [in, out] → [out, in]: loadDiffusers' conversion
 * undone) under diffusers' names, scheduler_config.json, and for a class-conditional model
 * playground.json with its class names (the metadata's, else the numbers) and "no label" class. Other
 * layouts have no diffusers form.
 */
export async function exportDiffusers(model: UNet, diffusion: DiffusionConfig, metadata: ModelMetadata = {}): Promise<DiffusersFolder> {
  const config = model.config;
  if (!isUNet2D(config))
    throw new RangeError(`only a UNet2DModel-layout model can be exported as a diffusers folder; this one is the playground's own`);
  const tensors = new Map<string, RawTensor>();
  for (const spec of planWeights(planOf(config))) {
    const w = model.weights.get(spec.name)!;
    const { toTorch } = torchLayout(spec);
    const torch = toTorch ? tf.transpose(w, toTorch) : w;
    tensors.set(spec.name, { shape: torch.shape, values: (await torch.data()) as Float32Array });
    if (torch !== w) torch.dispose();
  }
  return {
    'config.json': `${JSON.stringify(toDiffusersConfig(config), null, 2)}\n`,
    'diffusion_pytorch_model.safetensors': writeSafetensors(tensors),
    'scheduler_config.json': `${JSON.stringify(toSchedulerConfig(diffusion), null, 2)}\n`,
    ...(config.numClassEmbeds !== null && (metadata.classes !== undefined || config.noLabelClass !== null)
      ? {
          'playground.json': `${JSON.stringify(
            {
              classes: classNames(metadata, config.numClasses),
              noLabelClass: config.noLabelClass,
              ...(metadata.sampling ? { sampling: metadata.sampling } : {}),
            },
            null,
            2,
          )}\n`,
        }
      : {}),
  };
}
