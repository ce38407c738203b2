import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';

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
