import { diffusersLayout } from './diffusers/folder';
import { loadDiffusers } from './diffusers/load';
import type { ModelMetadata } from './metadata';
import * as tf from '@tensorflow/tfjs';
import type { DiffusionConfig } from '../diffusion/scheduler';
import { fromArtifacts, ModelLoadError, toArtifacts, type LoadedModel } from './io';
import type { UNet } from './model';

/**
 * A model as one file a person can download, keep, mail and import on another machine:
 * a 16-byte magic line, the artifacts' JSON (config, diffusion, weight manifest, metadata) with its
 * byte length in front (uint32 little-endian), then the float32 weights.
 */
const MAGIC = 'DDPM-PLAYGROUND\n';
export const MODEL_FILE_EXTENSION = '.ddpm';

export async function modelToFile(model: UNet, diffusion: DiffusionConfig, metadata: ModelMetadata = {}): Promise<Blob> {
  const { weightData, ...rest } = await toArtifacts(model, diffusion, metadata);
  const json = new TextEncoder().encode(JSON.stringify(rest));
  const length = new Uint8Array(4);
  new DataView(length.buffer).setUint32(0, json.length, true);
  return new Blob([new TextEncoder().encode(MAGIC), length, json, weightData as ArrayBuffer], { type: 'application/octet-stream' });
}

/**
 * Reads a model a person chose: one .ddpm file, or the tfjs pair model.json + weights (what
 * tools/torch/export.py writes). Anything else, or a model whose weights do not fit its config, is a
 * ModelLoadError saying what is wrong.
 */
export async function modelFromFiles(files: File[]): Promise<LoadedModel> {
  if (files.length === 0) throw new ModelLoadError('no file chosen');
  const path = (f: File) => f.webkitRelativePath || f.name;
  const layout = diffusersLayout(files.map(path));
  if (layout) {
    const file = (p: string) => files.find((f) => path(f) === p)!;
    const json = async (p: string): Promise<unknown> => {
      try {
        return JSON.parse(await file(p).text()) as unknown;
      } catch {
        throw new ModelLoadError(`${p} is not valid JSON`);
      }
    };
    return loadDiffusers({
      config: await json(layout.config),
      weights: { name: layout.weights, bytes: new Uint8Array(await file(layout.weights).arrayBuffer()) },
      ...(layout.scheduler ? { scheduler: await json(layout.scheduler) } : {}),
      ...(layout.playground ? { playground: await json(layout.playground) } : {}),
      source: 'files',
    });
  }
  if (files.some((f) => /\.safetensors$|^diffusion_pytorch_model\.bin$/i.test(f.name)) && !files.some((f) => f.name === 'config.json'))
    throw new ModelLoadError('a diffusers model needs its config.json chosen with its weights (and scheduler_config.json, if it has one)');
  const json = files.find((f) => f.name.toLowerCase().endsWith('.json'));
  if (json) {
    const weights = files.filter((f) => f !== json);
    if (weights.length === 0) throw new ModelLoadError(`${json.name} needs its weights file (e.g. weights.bin) chosen with it`);
    let artifacts: tf.io.ModelArtifacts;
    try {
      artifacts = await tf.io.browserFiles([json, ...weights]).load!();
    } catch (e) {
      throw new ModelLoadError(`could not read ${json.name}: ${e instanceof Error ? e.message : String(e)}`);
    }
    return fromArtifacts(artifacts);
  }
  if (files.length > 1) throw new ModelLoadError(`choose one ${MODEL_FILE_EXTENSION} file, or a model.json with its weights`);
  return fromArtifacts(await readModelFile(files[0]));
}

async function readModelFile(file: Blob): Promise<tf.io.ModelArtifacts> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  if (new TextDecoder().decode(bytes.subarray(0, MAGIC.length)) !== MAGIC)
    throw new ModelLoadError(`not a DDPM Playground model file (${MODEL_FILE_EXTENSION}, or model.json + weights.bin)`);
  const start = MAGIC.length + 4;
  if (bytes.length < start) throw new ModelLoadError('the model file is truncated');
  const jsonLength = new DataView(bytes.buffer, bytes.byteOffset + MAGIC.length, 4).getUint32(0, true);
  if (start + jsonLength > bytes.length) throw new ModelLoadError('the model file is truncated');
  let rest: Omit<tf.io.ModelArtifacts, 'weightData'>;
  try {
    rest = JSON.parse(new TextDecoder().decode(bytes.subarray(start, start + jsonLength))) as Omit<tf.io.ModelArtifacts, 'weightData'>;
  } catch {
    throw new ModelLoadError('the model file is damaged (its description is not valid JSON)');
  }
  return { ...rest, weightData: bytes.slice(start + jsonLength).buffer };
}
