import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { diffusersLayout } from '../../src/model/diffusers/folder';
import { loadDiffusers, parseSchedulerConfig, type DiffusersFiles } from '../../src/model/diffusers/load';
import { exportDiffusers } from '../../src/model/diffusers/export';
import { readSafetensors } from '../../src/model/diffusers/safetensors';
import { crc32, writeZip, ZipReader } from '../../src/model/diffusers/zip';
import { unpickleStateDict } from '../../src/model/diffusers/torch-pickle';
import { DEFAULT_DIFFUSION } from '../../src/diffusion/scheduler';
import { DEFAULT_UNET_CONFIG } from '../../src/model/config';
import { unetParams } from '../../src/model/flops';
import { UNet } from '../../src/model/model';
import { fromArtifacts, toArtifacts } from '../../src/model/io';
import { drawsUnlabelled } from '../../src/model/plans';
import { parseModelMetadata } from '../../src/model/metadata';
import { hintedSettings } from '../../src/ui/sampling-channel';
import { pageGuidance, SAMPLING_DEFAULTS } from '../../src/pipeline/defaults';
import { parseUNet2DConfig } from '../../src/model/unet2d-config';
import { values, type ParityIO } from './helpers';

const ROOT = 'tests/fixtures/diffusers';
const json = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));

/** A fixture folder as the loader gets it (tools/torch/make_diffusers_fixtures.py wrote them with the PyTorch twin). */
function folder(name: string): DiffusersFiles {
  const dir = join(ROOT, name);
  const weights = readdirSync(dir).find((f) => f.startsWith('diffusion_pytorch_model.'))!;
  return {
    config: json(join(dir, 'config.json')),
    scheduler: json(join(dir, 'scheduler_config.json')),
    weights: { name: weights, bytes: new Uint8Array(readFileSync(join(dir, weights))) },
  };
}

describe("diffusers' UNet2DModel", () => {
  it.each(['attn-f32', 'plain-f32'])(
    '%s: exported as a diffusers folder, it is the PyTorch twin’s own checkpoint (same names, shapes, values) and loads back as itself',
    async (name) => {
      const files = folder(name);
      const { model, diffusion } = await loadDiffusers(files);
      const out = await exportDiffusers(model, diffusion);
      // the weights are exactly the state dict the twin saved (diffusers' names, PyTorch's layouts)
      const theirs = readSafetensors(files.weights.bytes);
      const ours = readSafetensors(out['diffusion_pytorch_model.safetensors']);
      expect([...ours.keys()].sort()).toEqual([...theirs.keys()].sort());
      for (const [key, t] of theirs) {
        expect(ours.get(key)!.shape).toEqual(t.shape);
        expect(ours.get(key)!.values).toEqual(t.values);
      }
      // the configs read back as the same model and schedule
      expect(parseUNet2DConfig(JSON.parse(out['config.json']))).toEqual(model.config);
      expect(parseSchedulerConfig(JSON.parse(out['scheduler_config.json']))).toEqual(diffusion);
      const again = await loadDiffusers({
        config: JSON.parse(out['config.json']),
        scheduler: JSON.parse(out['scheduler_config.json']),
        weights: { name: 'diffusion_pytorch_model.safetensors', bytes: out['diffusion_pytorch_model.safetensors'] },
      });
      const io = json(join(ROOT, name, 'io.json')) as ParityIO;
      const x = tf.tensor4d(io.x, io.shape);
      const t = tf.tensor1d(io.t, 'int32');
      const labels = io.labels ? tf.tensor1d(io.labels, 'int32') : undefined;
      const [a, b] = [model, again.model].map((m) => m.predict(x, t, { labels }));
      expect(await values(b)).toEqual(await values(a));
      tf.dispose([x, t, a, b, ...(labels ? [labels] : [])]);
      model.dispose();
      again.model.dispose();
    },
  );

  it('only a UNet2DModel-layout model has a diffusers form', async () => {
    const model = UNet.create({ ...DEFAULT_UNET_CONFIG, imageSize: 16, baseChannels: 8, channelMults: [1, 2], groups: 4 }, 0);
    await expect(exportDiffusers(model, DEFAULT_DIFFUSION)).rejects.toThrow(/only a UNet2DModel-layout model/);
    model.dispose();
  });

  it.each(['attn-f32', 'attn-bf16', 'cifar-like-f16', 'cifar-like-bin-old-names', 'plain-f32'])(
    '%s: loads, counts PyTorch’s parameters, and gives the PyTorch twin’s output (≤ 1e-4)',
    async (name) => {
      const io = json(join(ROOT, name, 'io.json')) as ParityIO;
      const before = tf.memory().numTensors;
      const { model, diffusion } = await loadDiffusers(folder(name));
      expect(model.numParams).toBe(io.numParams);
      expect(unetParams(model.config)).toBe(io.numParams);
      expect(diffusion).toEqual({
        numTrainTimesteps: 1000,
        betaSchedule: 'linear',
        betaStart: 1e-4,
        betaEnd: 0.02,
        predictionType: 'epsilon',
      });
      const x = tf.tensor4d(io.x, io.shape);
      const t = tf.tensor1d(io.t, 'int32');
      const labels = io.labels ? tf.tensor1d(io.labels, 'int32') : undefined;
      const y = model.predict(x, t, { labels });
      const got = await values(y);
      const err = Math.max(...io.y.map((v, i) => Math.abs(v - got[i])));
      expect(err).toBeLessThan(1e-4);
      tf.dispose([x, t, y, ...(labels ? [labels] : [])]);
      model.dispose();
      expect(tf.memory().numTensors).toBe(before);
    },
  );

  it('a class-conditional UNet2DModel has no "no label" class: it asks for one', async () => {
    const { model } = await loadDiffusers(folder('cifar-like-f16'));
    const x = tf.zeros([1, 8, 8, 1]);
    const t = tf.tensor1d([5], 'int32');
    expect(() => model.predict(x, t)).toThrow(/no "no label" class/);
    tf.dispose([x, t]);
    model.dispose();
  });

  it('playground.json names the classes and the "no label" row: the model then draws unlabelled and guides, and keeps both through its exports', async () => {
    // cifar-like-f16 has 5 class rows: with the last as "no label", four named classes
    const files = { ...folder('cifar-like-f16'), playground: { classes: ['cat', 'dog', 'owl', 'fox'], noLabelClass: 4 } };
    const { model, diffusion, metadata } = await loadDiffusers(files);
    expect(model.config).toMatchObject({ numClasses: 4, numClassEmbeds: 5, noLabelClass: 4 });
    expect(drawsUnlabelled(model.config)).toBe(true);
    expect(metadata.classes).toEqual(['cat', 'dog', 'owl', 'fox']);
    // no label is the last row, exactly
    const x = tf.randomNormal([2, 8, 8, 1], 0, 1, 'float32', 3);
    const t = tf.tensor1d([5, 700], 'int32');
    const row4 = tf.tensor1d([4, 4], 'int32');
    const [none, last] = [model.predict(x, t), model.predict(x, t, { labels: row4 })];
    expect(await values(none)).toEqual(await values(last));
    // a diffusers folder again: playground.json with it
    const out = await exportDiffusers(model, diffusion, metadata);
    expect(JSON.parse(out['playground.json']!)).toEqual({ classes: ['cat', 'dog', 'owl', 'fox'], noLabelClass: 4 });
    // the playground's own file: model.json keeps the row
    const artifacts = await toArtifacts(model, diffusion, metadata);
    const again = fromArtifacts({ ...artifacts, modelTopology: JSON.parse(JSON.stringify(artifacts.modelTopology)) as object });
    expect(again.model.config).toEqual(model.config);
    tf.dispose([x, t, row4, none, last]);
    model.dispose();
    again.model.dispose();
  });

  it('a playground.json that does not fit the model is refused, saying why', async () => {
    const load = (playground: unknown, name = 'cifar-like-f16') => loadDiffusers({ ...folder(name), playground });
    await expect(load({ classes: ['a', 'b', 'c', 'd'], noLabelClass: 2 })).rejects.toThrow(
      /noLabelClass must be the last class-embedding row, 4, got 2/,
    );
    await expect(load({ classes: ['a', 'b'], noLabelClass: 4 })).rejects.toThrow(/classes must be 4 names/);
    // every row a class, named
    (await load({ classes: ['a', 'b', 'c', 'd', 'e'] })).model.dispose();
    await expect(load({ classes: [] }, 'attn-f32')).rejects.toThrow(/names classes, but config.json's model has no class embedding/);
    await expect(load('cats')).rejects.toThrow(/playground.json is not a JSON object/);
    // the sampling settings, when given, are checked too: a guidance of 100 or a class the model lacks
    const named = { classes: ['a', 'b', 'c', 'd'], noLabelClass: 4 };
    await expect(load({ ...named, sampling: { guidance: 100 } })).rejects.toThrow(/sampling must be an object of sampler/);
    await expect(load({ ...named, sampling: { label: 4 } })).rejects.toThrow(/label \(a class, below 4\)/);
    await expect(load({ ...named, sampling: 'fast' })).rejects.toThrow(/sampling must be/);
  });

  it("playground.json's sampling settings become the model's metadata, are kept by its diffusers export and open the page on them", async () => {
    const sampling = { sampler: 'dpm-solver++', steps: 20, guidance: 3, label: 0 };
    const files = { ...folder('cifar-like-f16'), playground: { classes: ['cat', 'dog', 'owl', 'fox'], noLabelClass: 4, sampling } };
    const { model, diffusion, metadata } = await loadDiffusers(files);
    expect(metadata.sampling).toEqual(sampling);
    const out = await exportDiffusers(model, diffusion, metadata);
    expect(JSON.parse(out['playground.json']!)).toEqual({ classes: ['cat', 'dog', 'owl', 'fox'], noLabelClass: 4, sampling });
    const info = { config: model.config, diffusion, metadata, classes: [], unlabelled: true, source: 'trained' as const, numParams: 0 };
    expect(hintedSettings(info)).toEqual({ sampler: 'dpm-solver++', steps: 20, guidance: 3, label: 0 });
    // the CLIs that judge a model at the page's setting (eval:emoji, bench:ttq) read the same guidance
    expect(pageGuidance(metadata)).toBe(3);
    expect(pageGuidance({})).toBe(SAMPLING_DEFAULTS.guidance);
    // what does not fit is left to the page's defaults: a sampler it lacks, a class beyond the model's, guidance without "no label"
    const odd = { ...info, metadata: { sampling: { sampler: 'euler', steps: 30, guidance: 2, label: 7 } } };
    expect(hintedSettings(odd)).toEqual({ steps: 30, guidance: 2 });
    expect(hintedSettings({ ...odd, unlabelled: false })).toEqual({ steps: 30 });
    // a .ddpm's metadata is data too: a malformed hint is dropped, the rest kept
    expect(parseModelMetadata({ classes: ['a'], sampling: { steps: 'many' } })).toEqual({ classes: ['a'] });
    expect(parseModelMetadata({ sampling: { guidance: 3, extra: 1 } })).toEqual({ sampling: { guidance: 3 } });
    model.dispose();
  });

  it('finds the files of a model folder and of a pipeline folder (unet/ and scheduler/), safetensors first, under a dropped folder’s name', () => {
    expect(
      diffusersLayout([
        'm/config.json',
        'm/diffusion_pytorch_model.bin',
        'm/diffusion_pytorch_model.safetensors',
        'm/scheduler_config.json',
      ]),
    ).toEqual({
      config: 'm/config.json',
      weights: 'm/diffusion_pytorch_model.safetensors',
      scheduler: 'm/scheduler_config.json',
      playground: null,
    });
    expect(
      diffusersLayout([
        'p/model_index.json',
        'p/unet/config.json',
        'p/unet/diffusion_pytorch_model.bin',
        'p/scheduler/scheduler_config.json',
        'p/vae/config.json',
      ]),
    ).toEqual({
      config: 'p/unet/config.json',
      weights: 'p/unet/diffusion_pytorch_model.bin',
      scheduler: 'p/scheduler/scheduler_config.json',
      playground: null,
    });
    expect(diffusersLayout(['config.json', 'diffusion_pytorch_model.safetensors', 'playground.json'])).toEqual({
      config: 'config.json',
      weights: 'diffusion_pytorch_model.safetensors',
      scheduler: null,
      playground: 'playground.json',
    });
    expect(diffusersLayout(['model.json', 'weights.bin'])).toBeNull();
    expect(diffusersLayout(['m/config.json'])).toBeNull();
  });

  it('scheduler_config.json: the schedule and prediction type, refusing what the engine cannot honour', () => {
    expect(parseSchedulerConfig({ beta_schedule: 'squaredcos_cap_v2', prediction_type: 'v_prediction', num_train_timesteps: 500 })).toEqual(
      {
        numTrainTimesteps: 500,
        betaSchedule: 'cosine',
        predictionType: 'v_prediction',
      },
    );
    expect(parseSchedulerConfig({ beta_schedule: 'scaled_linear', beta_start: 0.00085, beta_end: 0.012 }).betaSchedule).toBe(
      'scaled_linear',
    );
    expect(() => parseSchedulerConfig({ beta_schedule: 'sigmoid' })).toThrow(/beta_schedule "sigmoid" is not supported/);
    expect(() => parseSchedulerConfig({ prediction_type: 'flow' })).toThrow(/prediction_type "flow"/);
    expect(() => parseSchedulerConfig({ trained_betas: [0.1] })).toThrow(/trained_betas/);
  });

  it('config.json: an unsupported block type, model class or time embedding is refused by name', () => {
    const config = json(join(ROOT, 'attn-f32', 'config.json')) as Record<string, unknown>;
    expect(() => parseUNet2DConfig({ ...config, down_block_types: ['DownBlock2D', 'CrossAttnDownBlock2D'] })).toThrow(
      /block type 'CrossAttnDownBlock2D' is not supported/,
    );
    expect(() => parseUNet2DConfig({ ...config, _class_name: 'UNet2DConditionModel' })).toThrow(/UNet2DConditionModel", not a UNet2DModel/);
    expect(() => parseUNet2DConfig({ ...config, time_embedding_type: 'fourier' })).toThrow(/time_embedding_type 'fourier'/);
    expect(() => parseUNet2DConfig({ ...config, block_out_channels: [16, 30] })).toThrow(/30 channels do not split into 4 groups/);
    expect(() => parseUNet2DConfig({ ...config, sample_size: 7 })).toThrow(/cannot be halved/);
  });
});

describe('the page’s zipped diffusers folder', () => {
  it('writeZip stores each file with its CRC-32, and ZipReader reads them back', async () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926); // the check value of CRC-32/ISO-HDLC
    const weights = Uint8Array.from({ length: 1000 }, (_, i) => (i * 31) & 0xff);
    const zip = new ZipReader(writeZip({ 'm/config.json': '{"a": 1}\n', 'm/diffusion_pytorch_model.safetensors': weights }));
    expect(zip.names()).toEqual(['m/config.json', 'm/diffusion_pytorch_model.safetensors']);
    expect(new TextDecoder().decode(await zip.read('m/config.json'))).toBe('{"a": 1}\n');
    expect(await zip.read('m/diffusion_pytorch_model.safetensors')).toEqual(weights);
  });
});

describe('bad weight files: a clear error, nothing run, no tensor left behind', () => {
  const good = folder('attn-f32');
  const bytes = good.weights.bytes;
  const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  /** The fixture with its header rewritten (the data as it was). */
  const withHeader = (edit: (h: typeof header) => void): Uint8Array => {
    const h = structuredClone(header);
    edit(h);
    let text = new TextEncoder().encode(JSON.stringify(h));
    text = Uint8Array.from([...text, ...new Array<number>((8 - (text.length % 8)) % 8).fill(0x20)]);
    const out = new Uint8Array(8 + text.length + bytes.length - 8 - headerLength);
    new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
    out.set(text, 8);
    out.set(bytes.subarray(8 + headerLength), 8 + text.length);
    return out;
  };
  const load = (b: Uint8Array, name = 'diffusion_pytorch_model.safetensors') => loadDiffusers({ ...good, weights: { name, bytes: b } });
  const first = Object.keys(header).find((k) => k !== '__metadata__')!;

  it('truncated safetensors', async () => {
    await expect(load(bytes.subarray(0, bytes.length - 100))).rejects.toThrow(/truncated or lies/);
    await expect(load(bytes.subarray(0, 5))).rejects.toThrow(/truncated \(no header\)/);
    await expect(load(bytes.subarray(0, 100))).rejects.toThrow(/truncated: its header claims/);
  });

  it('a header whose offsets or shapes lie', async () => {
    await expect(load(withHeader((h) => (h[first].data_offsets = [0, 12])))).rejects.toThrow(/bytes\) but 12 bytes of data/);
    await expect(load(withHeader((h) => (h[first].shape = [3, 3])))).rejects.toThrow(/has shape \[3,3\] of F32/);
    await expect(load(withHeader((h) => (h[first].data_offsets = [0, 2 ** 40])))).rejects.toThrow(/truncated or lies/);
  });

  it('a header claiming 100 GB', async () => {
    const b = bytes.slice();
    new DataView(b.buffer).setBigUint64(0, 100n * 2n ** 30n, true);
    await expect(load(b)).rejects.toThrow(/header claims 107,374,182,400 bytes: not a plausible file/);
  });

  it('an unknown dtype', async () => {
    await expect(load(withHeader((h) => (h[first].dtype = 'I64')))).rejects.toThrow(/dtype "I64"; the playground reads F32, F16 and BF16/);
  });

  it('NaN weights', async () => {
    const b = bytes.slice();
    const [begin] = header[first].data_offsets;
    new DataView(b.buffer).setFloat32(8 + headerLength + begin + 4, NaN, true);
    const before = tf.memory().numTensors;
    await expect(load(b)).rejects.toThrow(new RegExp(`weight '.*' holds NaN at element 1: the file is damaged`));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('weights of another config: a missing, a misshapen and an unexpected weight are named', async () => {
    await expect(loadDiffusers({ ...good, config: { ...(good.config as object), layers_per_block: 2 } })).rejects.toThrow(
      /weight 'down_blocks.0.resnets.1.norm1.weight' is missing/,
    );
    await expect(loadDiffusers({ ...good, config: { ...(good.config as object), block_out_channels: [16, 16] } })).rejects.toThrow(
      /has shape \[.*\] in diffusion_pytorch_model.safetensors, but config.json needs/,
    );
    await expect(loadDiffusers({ ...good, config: { ...(good.config as object), add_attention: false } })).rejects.toThrow(
      /has a weight 'mid_block.attentions.0.group_norm.weight' that config.json's model does not use/,
    );
  });

  it('readSafetensors reads F16 and BF16 as their float32 values', () => {
    const f16 = folder('cifar-like-f16').weights.bytes;
    const tensors = readSafetensors(f16);
    expect(tensors.size).toBeGreaterThan(10);
    for (const t of tensors.values()) expect(t.values.every(Number.isFinite)).toBe(true);
  });
});

describe('PyTorch .bin files are read as data by a restricted reader', () => {
  /** A pickle (protocol 2) of `c MODULE\nNAME\n` called with one string argument: what a malicious checkpoint does. */
  const callPickle = (module: string, name: string) =>
    Uint8Array.from([
      0x80,
      2,
      ...new TextEncoder().encode(`c${module}\n${name}\nX`),
      4,
      0,
      0,
      0,
      ...new TextEncoder().encode('echo'),
      0x85,
      0x52,
      0x2e,
    ]);

  it.each([
    ['os', 'system'],
    ['builtins', 'eval'],
    ['posix', 'system'],
    ['torch._utils', '_rebuild_parameter'],
  ])('a pickle naming %s.%s is refused with its name, before anything could run', (module, name) => {
    expect(() => unpickleStateDict(callPickle(module, name))).toThrow(
      new RegExp(`asks for '${module}\\.${name}', which a state dict never needs: refused \\(nothing in a model file is run\\)`),
    );
  });

  it('opcodes a state dict never uses are refused by name (STACK_GLOBAL, INST, OBJ, NEWOBJ)', () => {
    expect(() => unpickleStateDict(Uint8Array.from([0x80, 2, 0x93]))).toThrow(/opcode STACK_GLOBAL/);
    expect(() => unpickleStateDict(Uint8Array.from([0x80, 2, 0x69]))).toThrow(/opcode INST/);
    expect(() => unpickleStateDict(Uint8Array.from([0x80, 2, 0x81]))).toThrow(/opcode NEWOBJ/);
  });

  it('a .bin whose data.pkl names os.system fails to load with that name, as a whole file too', async () => {
    const good = folder('cifar-like-bin-old-names');
    const bin = zipStored([['archive/data.pkl', callPickle('os', 'system')]]);
    await expect(loadDiffusers({ ...good, weights: { name: 'diffusion_pytorch_model.bin', bytes: bin } })).rejects.toThrow(/'os\.system'/);
    await expect(
      loadDiffusers({ ...good, weights: { name: 'diffusion_pytorch_model.bin', bytes: good.weights.bytes.subarray(0, 1000) } }),
    ).rejects.toThrow(/not a zip archive|truncated|damaged/);
  });
});

/** A zip of stored entries (what torch.save writes), CRCs left at 0 (the reader does not check them). */
function zipStored(entries: [string, Uint8Array][]): Uint8Array {
  const parts: number[] = [];
  const central: number[] = [];
  /** Little-endian fields: [bytes, value] each. */
  const le = (a: number[], ...fields: [2 | 4, number][]) => {
    for (const [n, v] of fields) for (let k = 0; k < n; k++) a.push((v >>> (8 * k)) & 0xff);
  };
  for (const [name, data] of entries) {
    const offset = parts.length;
    const n = new TextEncoder().encode(name);
    le(parts, [4, 0x04034b50], [2, 20], [2, 0], [2, 0], [4, 0], [4, 0], [4, data.length], [4, data.length], [2, n.length], [2, 0]);
    parts.push(...n, ...data);
    le(central, [4, 0x02014b50], [2, 20], [2, 20], [2, 0], [2, 0], [4, 0], [4, 0], [4, data.length], [4, data.length]);
    le(central, [2, n.length], [2, 0], [2, 0], [2, 0], [2, 0], [4, 0], [4, offset]);
    central.push(...n);
  }
  const cdOffset = parts.length;
  parts.push(...central);
  le(parts, [4, 0x06054b50], [2, 0], [2, 0], [2, entries.length], [2, entries.length], [4, central.length], [4, cdOffset], [2, 0]);
  return Uint8Array.from(parts);
}
