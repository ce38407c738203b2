import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ModelLoadError } from '../../src/model/io';
import { modelFromFiles, modelToFile } from '../../src/model/model-file';
import { UNet } from '../../src/model/model';
import { presetConfig } from '../../src/training/presets';

const diffusion = { numTrainTimesteps: 1000, betaSchedule: 'cosine' as const, predictionType: 'epsilon' as const };

async function bytesOf(blob: Blob): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await blob.arrayBuffer());
}

describe('one-file model export / import (.ddpm)', () => {
  it('round-trips config, diffusion, metadata and every weight exactly', async () => {
    const model = UNet.create(presetConfig('tiny', 32, 3, 2), 7);
    const blob = await modelToFile(model, diffusion, { classes: ['cat', 'dog'], trainedSteps: 120 });
    const loaded = await modelFromFiles([new File([blob], 'mine.ddpm')]);
    expect(loaded.model.config).toEqual(model.config);
    expect(loaded.diffusion).toEqual(diffusion);
    expect(loaded.metadata).toEqual({ classes: ['cat', 'dog'], trainedSteps: 120 });
    for (const [name, v] of model.weights)
      expect(Array.from(await loaded.model.weights.get(name)!.data())).toEqual(Array.from(await v.data()));
    loaded.model.dispose();
    model.dispose();
  });

  it('refuses a file that is not a model, a truncated one, and one whose weights do not fit its config', async () => {
    const model = UNet.create(presetConfig('tiny', 16, 1, 0), 1);
    const good = await bytesOf(await modelToFile(model, diffusion));
    const load = (b: Uint8Array | string, name = 'x.ddpm') => modelFromFiles([new File([b as BlobPart], name)]);
    await expect(load('hello')).rejects.toThrow(/not a DDPM Playground model file/);
    await expect(load(good.slice(0, 30))).rejects.toThrow(/truncated/);
    await expect(load(good.slice(0, good.length - 100))).rejects.toThrow(/weight data is \d+ bytes; the manifest describes \d+/);
    // rewrite the description: the first conv claims 8 output channels instead of 16
    const jsonLength = new DataView(good.buffer).getUint32(16, true);
    const description = JSON.parse(new TextDecoder().decode(good.subarray(20, 20 + jsonLength))) as {
      weightSpecs: { name: string; shape: number[] }[];
    };
    description.weightSpecs.find((s) => s.name === 'conv_in.weight')!.shape = [3, 3, 1, 8];
    const json = new TextEncoder().encode(JSON.stringify(description));
    const length = new Uint8Array(4);
    new DataView(length.buffer).setUint32(0, json.length, true);
    const wrong = await bytesOf(new Blob([good.subarray(0, 16), length, json, good.subarray(20 + jsonLength)]));
    const err = await load(wrong).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelLoadError);
    expect((err as Error).message).toMatch(/weight 'conv_in.weight' has shape \[3,3,1,8\] in the file, but the config needs \[3,3,1,16\]/);
    await expect(modelFromFiles([])).rejects.toThrow(/no file chosen/);
    await expect(modelFromFiles([new File(['{}'], 'model.json')])).rejects.toThrow(/needs its weights file/);
    model.dispose();
    expect(tf.memory().numTensors).toBe(0);
  });
});
