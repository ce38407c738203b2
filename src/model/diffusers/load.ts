import * as tf from '@tensorflow/tfjs';
import { LINEAR_BETA_END, LINEAR_BETA_START } from '../../diffusion/schedule';
import { DEFAULT_DIFFUSION, type DiffusionConfig } from '../../diffusion/scheduler';
import type { LoadedModel } from '../io';
import type { ModelMetadata } from '../metadata';
import { ModelLoadError } from '../model-error';
import { UNet } from '../model';
import { planWeights, type WeightSpec } from '../plan';
import { planOf } from '../plans';
import { parseUNet2DConfig } from '../unet2d-config';
import { parsePlaygroundFile, withNoLabel } from './playground';
import { readSafetensors } from './safetensors';
import type { RawTensor } from './tensors';
import { readTorchCheckpoint } from './torch-pickle';

/** The files of a diffusers model folder, as bytes or parsed JSON. */
export interface DiffusersFiles {
  /** config.json (parsed). */
  config: unknown;
  /** diffusion_pytorch_model.safetensors or diffusion_pytorch_model.bin. */
  weights: { name: string; bytes: Uint8Array };
  /** scheduler_config.json (parsed), when there is one. */
  scheduler?: unknown;
  /** playground.json (parsed), when there is one: class names and the "no label" class. */
  playground?: unknown;
  /** Where it came from, in words (a folder, a hub repo id), for the metadata. */
  source?: string;
}

/** Older hub checkpoints' attention names, and the ones diffusers renames them to on load (its _fix_state_dict_keys_on_load). */
const OLD_ATTENTION_NAMES: [RegExp, string][] = [
  [/\.query\.(weight|bias)$/, '.to_q.$1'],
  [/\.key\.(weight|bias)$/, '.to_k.$1'],
  [/\.value\.(weight|bias)$/, '.to_v.$1'],
  [/\.proj_attn\.(weight|bias)$/, '.to_out.0.$1'],
];

/**
 * A diffusers UNet2DModel (config.json + weights [+ scheduler_config.json]) as a model the engine
 * runs: the config parsed and checked, the weights read as data (safetensors, or a PyTorch .bin
 * through the restricted reader), old attention names renamed, every tensor matched against the
 * plan by name and shape — missing, unexpected, misshapen and non-finite ones refused by name — and
 * PyTorch's layouts converted once (conv OIHW → HWIO, linear [out, in] → [in, out]).
 */
export async function loadDiffusers(files: DiffusersFiles): Promise<LoadedModel> {
  const parsed = parseUNet2DConfig(files.config);
  const playground = files.playground === undefined ? null : parsePlaygroundFile(files.playground, parsed);
  const config = withNoLabel(parsed, playground?.noLabelClass ?? null);
  const diffusion = files.scheduler === undefined ? DDPM_PAPER : parseSchedulerConfig(files.scheduler);
  const { name, bytes } = files.weights;
  let raw: Map<string, RawTensor>;
  if (name.endsWith('.safetensors')) raw = readSafetensors(bytes);
  else if (name.endsWith('.bin') || name.endsWith('.pt') || name.endsWith('.pth')) raw = await readTorchCheckpoint(bytes);
  else throw new ModelLoadError(`'${name}' is neither a .safetensors nor a PyTorch .bin weights file`);
  const renamed = new Map<string, RawTensor>();
  for (const [key, t] of raw)
    renamed.set(
      OLD_ATTENTION_NAMES.reduce((k, [from, to]) => k.replace(from, to), key),
      t,
    );
  const specs = planWeights(planOf(config));
  const tensors = new Map<string, tf.Tensor>();
  try {
    for (const spec of specs) {
      const t = renamed.get(spec.name);
      if (!t) throw new ModelLoadError(`weight '${spec.name}' is missing from ${name} (is config.json this model's?)`);
      const { shape: torchShape, toEngine } = torchLayout(spec);
      if (t.shape.length !== torchShape.length || t.shape.some((d, i) => d !== torchShape[i]))
        throw new ModelLoadError(`weight '${spec.name}' has shape [${t.shape}] in ${name}, but config.json needs [${torchShape}]`);
      const bad = t.values.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) throw new ModelLoadError(`weight '${spec.name}' holds ${t.values[bad]} at element ${bad}: the file is damaged`);
      tensors.set(
        spec.name,
        tf.tidy(() => (toEngine ? tf.transpose(tf.tensor(t.values, t.shape), toEngine) : tf.tensor(t.values, t.shape))),
      );
    }
    const used = new Set(specs.map((s) => s.name));
    const extra = [...renamed.keys()].find((k) => !used.has(k));
    if (extra)
      throw new ModelLoadError(`${name} has a weight '${extra}' that config.json's model does not use (is config.json this model's?)`);
  } catch (e) {
    tf.dispose([...tensors.values()]);
    throw e;
  }
  const metadata: ModelMetadata = {
    description: `diffusers UNet2DModel${files.source ? ` from ${files.source}` : ''}`,
    format: 'diffusers',
    ...(files.source ? { source: files.source } : {}),
    ...(playground ? { classes: playground.classes } : {}),
    ...(playground?.sampling ? { sampling: playground.sampling } : {}),
  };
  return { model: new UNet(config, tensors), diffusion, metadata };
}

/**
 * How PyTorch stores a weight of the engine's shape: conv [k, k, in, out] as [out, in, k, k], dense
 * [in, out] as [out, in] (an embedding table as it is), and the permutations between the two.
 */
export function torchLayout(spec: Pick<WeightSpec, 'shape' | 'init'>): {
  shape: number[];
  toEngine: number[] | null;
  toTorch: number[] | null;
} {
  const s = spec.shape;
  if (s.length === 4) return { shape: [s[3], s[2], s[0], s[1]], toEngine: [2, 3, 1, 0], toTorch: [3, 2, 0, 1] };
  if (s.length === 2 && spec.init !== 'normal') return { shape: [s[1], s[0]], toEngine: [1, 0], toTorch: [1, 0] };
  return { shape: s, toEngine: null, toTorch: null };
}

/** diffusers' DDPMScheduler defaults: the paper's setting (T = 1000, linear β from 10⁻⁴ to 0.02, ε-prediction). */
const DDPM_PAPER: DiffusionConfig = { ...DEFAULT_DIFFUSION, betaStart: LINEAR_BETA_START, betaEnd: LINEAR_BETA_END };

const BETA_SCHEDULES: Record<string, DiffusionConfig['betaSchedule']> = {
  linear: 'linear',
  scaled_linear: 'scaled_linear',
  squaredcos_cap_v2: 'cosine',
};

/**
 * scheduler_config.json (any diffusers scheduler's) → the noise schedule and prediction type the
 * model was trained with; what the engine cannot honour (trained betas, another schedule or
 * prediction type) is refused by name. Its samplers are the page's own; every one clips x̂0 to [−1, 1].
 */
export function parseSchedulerConfig(raw: unknown): DiffusionConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ModelLoadError('scheduler_config.json is not a JSON object');
  const j = raw as Record<string, unknown>;
  const T = j.num_train_timesteps ?? DEFAULT_DIFFUSION.numTrainTimesteps;
  if (!Number.isInteger(T) || (T as number) < 2)
    throw new ModelLoadError(`scheduler_config.json: num_train_timesteps must be an integer ≥ 2, got ${JSON.stringify(T)}`);
  if (j.trained_betas !== undefined && j.trained_betas !== null)
    throw new ModelLoadError('scheduler_config.json: trained_betas are not supported');
  const name = j.beta_schedule ?? 'linear';
  const schedule = typeof name === 'string' ? BETA_SCHEDULES[name] : undefined;
  if (!schedule)
    throw new ModelLoadError(
      `scheduler_config.json: beta_schedule ${JSON.stringify(j.beta_schedule)} is not supported (linear, scaled_linear, squaredcos_cap_v2)`,
    );
  const prediction = j.prediction_type ?? 'epsilon';
  if (prediction !== 'epsilon' && prediction !== 'v_prediction' && prediction !== 'sample')
    throw new ModelLoadError(
      `scheduler_config.json: prediction_type ${JSON.stringify(prediction)} is not supported (epsilon, v_prediction, sample)`,
    );
  const beta = (key: string, fallback: number) => {
    const v = j[key] ?? fallback;
    if (typeof v !== 'number' || !(v > 0 && v < 1))
      throw new ModelLoadError(`scheduler_config.json: ${key} must be a number in (0, 1), got ${JSON.stringify(v)}`);
    return v;
  };
  return {
    numTrainTimesteps: T as number,
    betaSchedule: schedule,
    ...(schedule === 'cosine' ? {} : { betaStart: beta('beta_start', LINEAR_BETA_START), betaEnd: beta('beta_end', LINEAR_BETA_END) }),
    predictionType: prediction,
  };
}
