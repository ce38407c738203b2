import * as tf from '@tensorflow/tfjs';
import type { DiffusionConfig } from '../diffusion/scheduler';
import { isUNet2D, ModelConfigError, validateModelConfig, type ModelConfig } from './config';
import { checkNoLabelClass, withNoLabel } from './diffusers/playground';
import { toDiffusersConfig, type UNet2DConfig } from './unet2d-config';
import { ModelLoadError } from './model-error';
import { parseModelMetadata, type ModelMetadata } from './metadata';
import { UNet } from './model';
import { weightSpecs } from './unet';

/**
 * Saving and loading through tfjs's own IO handlers: model.json + weight files from a URL
 * (tf.io.http), IndexedDB ('indexeddb://name'), downloads ('downloads://name'), or files a person
 * chose (tf.io.browserFiles). The config travels with the weights in modelTopology.
 */
export const MODEL_FORMAT = 'ddpm-playground-unet';

export interface LoadedModel {
  model: UNet;
  diffusion: DiffusionConfig;
  /** Facts about the model (its classes, training steps, data, …). */
  metadata: ModelMetadata;
}

export { ModelLoadError } from './model-error';

/** The model as tfjs ModelArtifacts (weights read back with awaited reads, not dataSync). */
export async function toArtifacts(model: UNet, diffusion: DiffusionConfig, metadata: ModelMetadata = {}): Promise<tf.io.ModelArtifacts> {
  const specs = weightSpecs(model.config);
  return {
    format: MODEL_FORMAT,
    generatedBy: 'DDPM Playground',
    convertedBy: null,
    // a UNet2DModel travels as its diffusers config.json, so the file reads back through the same
    // checks, with its "no label" class (playground.json's) beside it
    modelTopology: {
      unet: isUNet2D(model.config) ? toDiffusersConfig(model.config) : model.config,
      ...(isUNet2D(model.config) && model.config.noLabelClass !== null ? { noLabelClass: model.config.noLabelClass } : {}),
      diffusion,
    },
    weightSpecs: specs.map(({ name, shape }) => ({ name, shape, dtype: 'float32' as const })),
    weightData: await weightBuffer(model),
    userDefinedMetadata: metadata as Record<string, object>,
  };
}

/** Loads from a model.json URL, a registered scheme ('indexeddb://…'), or any IOHandler. */
export async function loadModel(source: string | tf.io.IOHandler): Promise<LoadedModel> {
  let handler: tf.io.IOHandler;
  if (typeof source !== 'string') handler = source;
  else if (/^[a-z]+:\/\//i.test(source) && !/^https?:\/\//i.test(source)) {
    const found = tf.io.getLoadHandlers(source)[0];
    if (!found) throw new ModelLoadError(`no tfjs load handler for '${source}'`);
    handler = found;
  } else handler = tf.io.http(source);
  if (!handler.load) throw new ModelLoadError('this IO handler cannot load');
  let artifacts: tf.io.ModelArtifacts;
  try {
    artifacts = await handler.load();
  } catch (e) {
    throw new ModelLoadError(`could not read the model: ${e instanceof Error ? e.message : String(e)}`);
  }
  return fromArtifacts(artifacts);
}

/** Checks artifacts against their own config and builds the model; the first problem is a ModelLoadError. */
export function fromArtifacts(artifacts: tf.io.ModelArtifacts): LoadedModel {
  const topology = artifacts.modelTopology as { unet?: unknown; noLabelClass?: unknown; diffusion?: unknown } | undefined;
  if (artifacts.format !== MODEL_FORMAT || !topology || typeof topology !== 'object' || !('unet' in topology))
    throw new ModelLoadError(`not a DDPM Playground model (format '${String(artifacts.format)}'; expected '${MODEL_FORMAT}')`);
  let config: ModelConfig;
  try {
    config = validateModelConfig(topology.unet);
  } catch (e) {
    if (e instanceof ModelConfigError) throw new ModelLoadError(`bad model config: ${e.message}`);
    throw e;
  }
  const noLabelClass = checkNoLabelClass(topology.noLabelClass, config, 'bad model config');
  if (noLabelClass !== null) config = withNoLabel(config as UNet2DConfig, noLabelClass);
  const diffusion = validateDiffusion(topology.diffusion);
  const specs = artifacts.weightSpecs ?? [];
  const data = artifacts.weightData;
  if (!data) throw new ModelLoadError('the model has no weight data');
  const expected = weightSpecs(config);
  const given = new Map(specs.map((s) => [s.name, s]));
  for (const e of expected) {
    const s = given.get(e.name);
    if (!s) throw new ModelLoadError(`weight '${e.name}' (shape [${e.shape}]) is missing from the file`);
    if (s.shape.length !== e.shape.length || s.shape.some((d, i) => d !== e.shape[i]))
      throw new ModelLoadError(`weight '${e.name}' has shape [${s.shape}] in the file, but the config needs [${e.shape}]`);
    if (s.dtype !== 'float32') throw new ModelLoadError(`weight '${e.name}' is ${s.dtype}; expected float32`);
  }
  const unexpected = specs.find((s) => !expected.some((e) => e.name === s.name));
  if (unexpected) throw new ModelLoadError(`the file has a weight '${unexpected.name}' that this config does not use`);
  const buffer = data instanceof ArrayBuffer ? data : concatArrayBuffers(data);
  const byteLength = specs.reduce((n, s) => n + byteSize(s), 0);
  if (buffer.byteLength !== byteLength)
    throw new ModelLoadError(
      `the weight data is ${buffer.byteLength} bytes; the manifest describes ${byteLength} (a truncated or wrong file?)`,
    );
  const tensors = tf.io.decodeWeights(buffer, specs);
  const model = new UNet(config, new Map(Object.entries(tensors)));
  return { model, diffusion, metadata: parseModelMetadata(artifacts.userDefinedMetadata) };
}

function validateDiffusion(raw: unknown): DiffusionConfig {
  const d = (raw ?? {}) as Record<string, unknown>;
  if (!Number.isInteger(d.numTrainTimesteps) || (d.numTrainTimesteps as number) < 2)
    throw new ModelLoadError(`diffusion.numTrainTimesteps must be an integer ≥ 2, got ${JSON.stringify(d.numTrainTimesteps)}`);
  if (d.betaSchedule !== 'linear' && d.betaSchedule !== 'scaled_linear' && d.betaSchedule !== 'cosine')
    throw new ModelLoadError(`diffusion.betaSchedule must be 'linear', 'scaled_linear' or 'cosine'`);
  const p = d.predictionType;
  if (p !== 'epsilon' && p !== 'sample' && p !== 'v_prediction')
    throw new ModelLoadError(`diffusion.predictionType must be 'epsilon', 'sample' or 'v_prediction'`);
  const range: Partial<DiffusionConfig> = {};
  for (const k of ['betaStart', 'betaEnd'] as const) {
    if (d[k] === undefined) continue;
    if (typeof d[k] !== 'number' || !(d[k] > 0 && d[k] < 1))
      throw new ModelLoadError(`diffusion.${k} must be a number in (0, 1), got ${JSON.stringify(d[k])}`);
    range[k] = d[k];
  }
  return { numTrainTimesteps: d.numTrainTimesteps as number, betaSchedule: d.betaSchedule, predictionType: p, ...range };
}

/** Bytes a manifest entry occupies: 4 per float32 value, fewer when quantised. */
function byteSize(s: tf.io.WeightsManifestEntry): number {
  const n = s.shape.reduce((a, b) => a * b, 1);
  return n * (s.quantization ? (s.quantization.dtype === 'uint8' ? 1 : 2) : 4);
}

function concatArrayBuffers(parts: ArrayBuffer[]): ArrayBuffer {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    out.set(new Uint8Array(p), o);
    o += p.byteLength;
  }
  return out.buffer;
}

/** The model's weights as one little-endian float32 buffer in weightSpecs order (awaited reads). */
export async function weightBuffer(model: UNet): Promise<ArrayBuffer> {
  const names = weightSpecs(model.config).map((s) => s.name);
  const arrays = await Promise.all(names.map((n) => model.weights.get(n)!.data() as Promise<Float32Array>));
  return concatArrayBuffers(arrays.map((a) => a.slice().buffer));
}
