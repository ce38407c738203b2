import { describe, expect, it } from 'vitest';
import { asTimestep } from '../../src/diffusion';
import { validateModelConfig, ModelConfigError } from '../../src/model/config';
import { loadModel } from '../../src/model/io';
import type { UNet } from '../../src/model/model';
import { planFlops, planParams } from '../../src/model/plan';
import { planOf } from '../../src/model/plans';
import { sample, type SampleOptions } from '../../src/pipeline/sample';
import { fileHandler } from '../../scripts/node-io';
import { expectNoLeak, values } from './helpers';

/** The parity fixture's text model (tools/torch/make_fixtures.py): 16×16, vocabulary 3, 7, a, in, left, small, the, top. */
const load = async () => (await loadModel(fileHandler('tests/fixtures/parity/text'))).model;
const diffusion = { numTrainTimesteps: 100, betaSchedule: 'linear' as const, predictionType: 'epsilon' as const };

async function run(model: UNet, o: Partial<SampleOptions>) {
  const frames: { t: number; sample: Float32Array; attention: Float32Array | null; shape: number[] | null }[] = [];
  for (const step of sample(model, diffusion, { sampler: 'ddim', steps: 4, batch: 2, seed: 3, guidance: 2, ...o }))
    frames.push({
      t: step.t,
      sample: await values(step.sample),
      attention: step.attention ? await values(step.attention) : null,
      shape: step.attention?.shape ?? null,
    });
  return frames;
}

describe('sampling a text model', () => {
  it('follows the prompt: another prompt, a negative prompt and guidance each change the picture', async () => {
    const model = await load();
    const a = await run(model, { prompts: ['a small 3 in the top left', '7'] });
    const b = await run(model, { prompts: ['a small 7 in the top left', '7'] });
    const neg = await run(model, { prompts: ['a small 3 in the top left', '7'], negativePrompt: 'small' });
    const plain = await run(model, { prompts: ['a small 3 in the top left', '7'], guidance: 1 });
    const last = (f: typeof a) => f[f.length - 1].sample;
    const differ = (x: Float32Array, y: Float32Array) => Math.max(...x.map((v, i) => Math.abs(v - y[i])));
    const half = 16 * 16;
    expect(differ(last(a).slice(0, half), last(b).slice(0, half))).toBeGreaterThan(1e-3);
    expect(differ(last(a).slice(half), last(b).slice(half))).toBe(0); // the second image's prompt is the same
    expect(differ(last(a), last(neg))).toBeGreaterThan(1e-3);
    expect(differ(last(a), last(plain))).toBeGreaterThan(1e-3);
    model.dispose();
  });

  it('switches prompts at the chosen t: before the first step is all the second prompt, below the last step all the first', async () => {
    const model = await load();
    const first = await run(model, { prompts: ['3', '3'] });
    const second = await run(model, { prompts: ['7', '7'] });
    const ts = first.map((f) => f.t);
    const top = asTimestep(ts[0], 100);
    expect(await run(model, { prompts: ['3', '3'], promptSwitch: { prompts: ['7', '7'], at: top } })).toEqual(second);
    const never = await run(model, { prompts: ['3', '3'], promptSwitch: { prompts: ['7', '7'], at: asTimestep(0, 100) } });
    // the last step is t = 0 for DDIM's leading spacing, so only that step switches
    expect(ts[ts.length - 1]).toBe(0);
    expect(never.slice(0, -1)).toEqual(first.slice(0, -1));
    const mid = await run(model, { prompts: ['3', '3'], promptSwitch: { prompts: ['7', '7'], at: asTimestep(ts[2], 100) } });
    expect(mid.slice(0, 2)).toEqual(first.slice(0, 2));
    expect(mid[2].sample).not.toEqual(first[2].sample);
    model.dispose();
  });

  it('yields attention maps [B, H, W, L] that sum to 1 over the tokens at every pixel, and frees every tensor', async () => {
    const model = await load();
    const frames = await run(model, { prompts: ['a small 3 in the top left', ''], attentionMaps: true });
    expect(frames[0].shape).toEqual([2, 16, 16, 8]);
    const map = frames[0].attention!;
    for (let p = 0; p < 2 * 16 * 16; p += 37) {
      const row = map.slice(p * 8, p * 8 + 8);
      expect(row.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 4);
    }
    // the empty prompt attends only to <start>; <pad> gets nothing
    const empty = map.slice(16 * 16 * 8);
    for (let p = 0; p < 16 * 16; p += 17) expect(empty[p * 8]).toBeCloseTo(1, 5);
    await expectNoLeak(async () => {
      await run(model, { prompts: ['3', '7'], attentionMaps: true, promptSwitch: { prompts: ['7', '3'], at: asTimestep(50, 100) } });
    });
    model.dispose();
  });
});

describe('the text model’s config', () => {
  it('counts the PyTorch twin’s parameters and its cross-attention FLOPs', async () => {
    const model = await load();
    const plan = planOf(model.config);
    expect(planParams(plan)).toBe(model.numParams);
    expect(planFlops(plan).attention).toBeGreaterThan(0);
    model.dispose();
  });
  it('refuses a config that cannot run, naming the field', () => {
    const ok = {
      kind: 'text-unet',
      imageSize: 16,
      inChannels: 1,
      baseChannels: 8,
      channelMults: [1, 2],
      numResBlocks: 1,
      crossAttentionLevels: [1],
      headChannels: 8,
      attention: false,
      dropout: 0,
      groups: 4,
      downsample: 'avgpool',
      text: { vocabulary: ['<pad>', '<start>', 'a'], maxTokens: 8, dim: 16, layers: 1, heads: 2 },
    };
    expect(validateModelConfig(ok)).toMatchObject({ kind: 'text-unet', numClasses: 0 });
    const bad = (patch: object, message: RegExp) => expect(() => validateModelConfig({ ...ok, ...patch })).toThrow(message);
    bad({ crossAttentionLevels: [2] }, /crossAttentionLevels/);
    bad({ text: { ...ok.text, vocabulary: ['a', 'b', 'c'] } }, /must begin with '<pad>' and '<start>'/);
    bad({ text: { ...ok.text, vocabulary: ['<pad>', '<start>', 'a', 'a'] } }, /lists a word twice/);
    bad({ text: { ...ok.text, heads: 3 } }, /not divisible by text.heads/);
    bad({ text: null }, /'text' must be an object/);
    expect(() => validateModelConfig({ ...ok, imageSize: 10, channelMults: [1, 2, 4] })).toThrow(ModelConfigError);
  });
});
