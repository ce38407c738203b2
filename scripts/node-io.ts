import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { diffusersLayout } from '../src/model/diffusers/folder';
import { loadDiffusers } from '../src/model/diffusers/load';
import { fetchFromHub, HUB_ENDPOINT } from '../src/worker/hub';
import { loadModel, type LoadedModel } from '../src/model/io';

/**
 * A tfjs IOHandler for a model.json + weights.bin pair on disk (Node has no file:// handler
 * without tfjs-node). Used by the CLI tools and the Node tests.
 */
export function fileHandler(modelJsonPath: string): tf.io.IOHandler {
  const path = modelJsonPath.endsWith('.json') ? modelJsonPath : join(modelJsonPath, 'model.json');
  return {
    async load() {
      const json = JSON.parse(await readFile(path, 'utf8')) as tf.io.ModelJSON;
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const specs = manifest.flatMap((g) => g.weights);
        const buffers = await Promise.all(manifest.flatMap((g) => g.paths.map((p) => readFile(join(dirname(path), p)))));
        const bytes = Buffer.concat(buffers);
        return [specs, bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)];
      });
    },
    async save(artifacts) {
      await mkdir(dirname(path), { recursive: true });
      const data = artifacts.weightData as ArrayBuffer;
      await writeFile(join(dirname(path), 'weights.bin'), new Uint8Array(data));
      const json: tf.io.ModelJSON = {
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        modelTopology: artifacts.modelTopology ?? {},
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
        userDefinedMetadata: artifacts.userDefinedMetadata,
      };
      await writeFile(path, JSON.stringify(json));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
  };
}

/**
 * A model on disk, whatever its format: a diffusers model or pipeline folder (config.json +
 * diffusion_pytorch_model.safetensors|.bin, scheduler_config.json), or the playground's model.json +
 * weights.bin (a folder or the model.json itself).
 */
export async function loadModelFrom(path: string): Promise<LoadedModel> {
  const entries = await readdir(path, { recursive: true }).catch(() => null);
  // not a folder here, but an owner/name: a repo on the Hugging Face Hub (HF_ENDPOINT: another server)
  if (!entries && !existsSync(path) && /^[\w.-]+\/[\w.-]+(@[\w./-]+)?$/.test(path)) {
    const [repo, revision = 'main'] = path.split('@');
    const endpoint = process.env.HF_ENDPOINT ?? HUB_ENDPOINT;
    const files = await fetchFromHub(
      { repo, revision, endpoint },
      (file, done, total) =>
        process.stderr.write(`\r${file}: ${(done / 2 ** 20).toFixed(1)}${total ? ` of ${(total / 2 ** 20).toFixed(1)}` : ''} MB`),
      new AbortController().signal,
    );
    process.stderr.write('\n');
    return loadDiffusers(files);
  }
  const layout = entries ? diffusersLayout(entries.map(String)) : null;
  if (!layout) return loadModel(fileHandler(path));
  const read = (p: string) => readFile(join(path, p));
  return loadDiffusers({
    config: JSON.parse(await read(layout.config).then(String)) as unknown,
    weights: { name: layout.weights, bytes: new Uint8Array(await read(layout.weights)) },
    ...(layout.scheduler ? { scheduler: JSON.parse(await read(layout.scheduler).then(String)) as unknown } : {}),
    ...(layout.playground ? { playground: JSON.parse(await read(layout.playground).then(String)) as unknown } : {}),
    source: path,
  });
}
