import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { asTimestep, DDPMScheduler } from '../../src/diffusion';
import { guidedNoise } from '../../src/pipeline/sample';
import { loadModel } from '../../src/model/io';
import { fileHandler, loadModelFrom } from '../../scripts/node-io';
import { expectClose, values, type ParityIO } from './helpers';

/**
 * The tfjs U-Net reproduces the PyTorch mirror (tools/torch/unet.py) on the same weights.
 * Fixtures come from tools/torch/make_fixtures.py: weights, inputs, and PyTorch's outputs.
 */

// [name, model directory, inputs/outputs]; shipped-* are the models in public/, written by tools/torch/export.py and train_emoji.py
const CASES = [
  ['mnist-like', 'tests/fixtures/parity/mnist-like', 'tests/fixtures/parity/mnist-like/io.json'],
  ['rgb-attention', 'tests/fixtures/parity/rgb-attention', 'tests/fixtures/parity/rgb-attention/io.json'],
  ['shipped-mnist', 'public/models/mnist', 'tests/fixtures/parity/shipped-mnist-io.json'],
  ['shipped-captioned-digits', 'public/models/captioned-digits', 'tests/fixtures/parity/shipped-captioned-digits-io.json'],
  // a diffusers folder (tools/torch/train_emoji.py --export … --fixture-name shipped-emoji), the "no label" row included
  ['shipped-emoji', 'public/models/emoji', 'tests/fixtures/parity/shipped-emoji-io.json'],
];

describe.each(CASES)('PyTorch parity: %s', (name, dir, ioPath) => {
  it('gives PyTorch’s outputs within 1e-4', async () => {
    const io = JSON.parse(readFileSync(ioPath, 'utf8')) as ParityIO & { ids?: number[][] };
    const { model } = await loadModelFrom(dir);
    expect(model.numParams).toBe(io.numParams);
    const x = tf.tensor4d(io.x, io.shape);
    const condition = io.ids
      ? { text: model.encode(tf.tensor2d(io.ids, undefined, 'int32')) }
      : io.labels
        ? { labels: tf.tensor1d(io.labels, 'int32') }
        : {};
    const y = model.predict(x, tf.tensor1d(io.t), condition);
    const got = await values(y);
    let worst = 0;
    for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - io.y[i]));
    console.info(`${name}: max |tfjs − PyTorch| = ${worst.toExponential(2)} (max |y| ${Math.max(...io.y.map(Math.abs)).toFixed(3)})`);
    expect(worst).toBeLessThanOrEqual(1e-4);
    tf.dispose([x, y]);
    model.dispose();
  });
});

// tools/torch/sample.py --guidance s draws the guided DDPM samples that `npm run eval -- --samples` scores
describe('PyTorch parity: classifier-free guidance of tools/torch/sample.py', () => {
  it('guidedNoise gives its guided ε (s = 1.5, one image with "no label")', async () => {
    const io = JSON.parse(readFileSync('tests/fixtures/parity/mnist-like/io.json', 'utf8')) as ParityIO;
    const { guided, labels } = io;
    if (!guided || !labels) throw new Error('mnist-like/io.json has no guided case: rerun tools/torch/make_fixtures.py');
    const { model } = await loadModel(fileHandler('tests/fixtures/parity/mnist-like'));
    const nc = model.config.numClasses;
    expect(labels).toContain(nc); // the fixture mixes real labels with the "no label" index
    const x = tf.tensor4d(io.x, io.shape);
    const eps = guidedNoise(
      model,
      x,
      asTimestep(guided.t, 1000),
      labels.map((l) => (l === nc ? null : l)),
      guided.guidance,
    );
    const got = await values(eps);
    const cond = tf.tidy(() => model.predict(x, tf.fill<tf.Rank.R1>([io.shape[0]], guided.t), { labels: tf.tensor1d(labels, 'int32') }));
    const plain = await values(cond);
    expect(Math.max(...got.map((v, i) => Math.abs(v - plain[i])))).toBeGreaterThan(1e-2); // guidance changed something
    expectClose(got, guided.y, 1e-4);
    tf.dispose([x, eps, cond]);
    model.dispose();
  });
});

interface StepCase {
  t: number;
  x: number[];
  eps: number[];
  z: number[];
  prev: number[];
}

// tools/torch/sample.py draws large DDPM runs for `npm run eval -- --samples`; its step must be this one
describe('PyTorch parity: the DDPM step of tools/torch/sample.py', () => {
  it('gives its x_{t−1} for the same x_t, ε and z, T−1 … 0 (clipping x̂0 included)', async () => {
    const fixture = JSON.parse(readFileSync('tests/fixtures/parity/ddpm-step.json', 'utf8')) as {
      schedule: { numTrainTimesteps: number; betaSchedule: 'linear' };
      cases: StepCase[];
    };
    const scheduler = new DDPMScheduler(fixture.schedule);
    expect(fixture.cases.map((c) => c.t)).toEqual([999, 487, 10, 1, 0]);
    for (const c of fixture.cases) {
      const [x, eps, z] = [c.x, c.eps, c.z].map((v) => tf.tensor1d(v));
      const out = scheduler.step(eps, asTimestep(c.t, fixture.schedule.numTrainTimesteps), x, { noise: z });
      expectClose(await values(out.prevSample), c.prev, 1e-5);
      tf.dispose([x, eps, z, out.prevSample, out.predOriginalSample]);
    }
  });
});

// tools/torch/text_unet.py: the text encoder, cross-attention with padding masked, the pooled text in the embedding
describe('PyTorch parity: the text-conditioned U-Net', () => {
  it('gives PyTorch’s ε and attention maps within 1e-4 for three prompts (one empty)', async () => {
    const io = JSON.parse(readFileSync('tests/fixtures/parity/text/io.json', 'utf8')) as ParityIO & { ids: number[][]; maps: number[] };
    const { model } = await loadModel(fileHandler('tests/fixtures/parity/text'));
    expect(model.numParams).toBe(io.numParams);
    const x = tf.tensor4d(io.x, io.shape);
    const ids = tf.tensor2d(io.ids, undefined, 'int32');
    const text = model.encode(ids);
    const maps: tf.Tensor[] = [];
    const y = model.predict(x, tf.tensor1d(io.t), { text, attentionMaps: maps });
    const got = await values(y);
    let worst = 0;
    for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - io.y[i]));
    console.info(`text: max |tfjs − PyTorch| = ${worst.toExponential(2)}`);
    expect(worst).toBeLessThanOrEqual(1e-4);
    expect(maps).toHaveLength(1);
    expect(maps[0].shape).toEqual([...io.shape.slice(0, 3), io.ids[0].length]);
    expectClose(await values(maps[0]), io.maps, 1e-5);
    // the empty prompt is what a text model sees without a text
    const empty = model.predict(tf.slice(x, [2], [1]), tf.tensor1d([io.t[2]]));
    const per = io.shape[1] * io.shape[2];
    expectClose(await values(empty), io.y.slice(2 * per), 1e-4);
    tf.dispose([x, ids, y, empty, text.tokens, text.mask, text.pooled, ...maps]);
    model.dispose();
  });
});
