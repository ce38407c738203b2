import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_UNET_CONFIG, type UNetConfig } from '../../src/model/config';
import { UNet } from '../../src/model/model';
import { loadModel } from '../../src/model/io';
import type { FromEngine, SampleSettings, SampleStart, SamplingEvent, ToEngine } from '../../src/protocol';
import { fileHandler } from '../../scripts/node-io';
import { DeviceGate } from '../../src/worker/device-gate';
import { Meters } from '../../src/worker/meter';
import { ModelRegistry } from '../../src/worker/model-registry';
import { SamplingService } from '../../src/worker/sampling';
import { createEngine, createServices } from '../../src/worker/services';
import { Engine } from '../../src/worker/engine';
import type { ChannelService } from '../../src/worker/service';
import { at } from './helpers';

const tiny: UNetConfig = { ...DEFAULT_UNET_CONFIG, imageSize: 16, baseChannels: 8, channelMults: [1, 2], groups: 4, numClasses: 2 };
const diffusion = { numTrainTimesteps: 100, betaSchedule: 'linear' as const, predictionType: 'epsilon' as const };
const settings: SampleSettings = { sampler: 'ddim', steps: 10, eta: 0, batch: 1, label: 1, guidance: 1, seed: 0 };

/** The sampling service on a tiny model, recording what it posts. */
function sampling() {
  const posted: FromEngine[] = [];
  const post = (m: FromEngine) => void posted.push(m);
  const models = new ModelRegistry(post);
  models.activate({ model: UNet.create(tiny, 1), diffusion, metadata: {}, source: 'imported' });
  const sampling = new SamplingService(post, models, new DeviceGate(), new Meters());
  // the service as the page drives it: through its channel's requests
  const service = {
    start: (run: number, s: SampleSettings, from?: SampleStart) =>
      sampling.handle({ channel: 'sampling', type: 'start', run, settings: s, from }),
    compare: (run: number, s: SampleSettings) => sampling.handle({ channel: 'sampling', type: 'compare', run, settings: s }),
    pause: () => sampling.handle({ channel: 'sampling', type: 'pause' }),
    stop: () => sampling.handle({ channel: 'sampling', type: 'stop' }),
  };
  const events = () => posted.filter((m): m is SamplingEvent => m.channel === 'sampling');
  return { service, events, models };
}

describe('the worker services', () => {
  it('every message names its channel, and a failure is reported on the channel of the request', async () => {
    const posted: FromEngine[] = [];
    const engine = createEngine((m) => void posted.push(m));
    await engine.handle({ channel: 'sampling', type: 'start', run: 1, settings });
    await engine.handle({
      channel: 'training',
      type: 'start',
      setup: { init: 'tiny', batchSize: 4, totalSteps: 10, learningRate: 1e-3, flip: false, previewEvery: 0 },
    });
    await engine.handle({ channel: 'models', type: 'export', format: 'ddpm' });
    expect(posted).toEqual([
      { channel: 'sampling', type: 'error', message: expect.stringMatching(/not initialised/) as string },
      { channel: 'training', type: 'error', message: expect.stringMatching(/add some images first/) as string },
      { channel: 'models', type: 'error', message: expect.stringMatching(/train a model first/) as string },
    ]);
  });

  it('frames carry the run id; a second start replaces the first, which posts nothing more and never "done"', async () => {
    const { service, events, models } = sampling();
    const first = service.start(1, settings);
    const second = service.start(2, { ...settings, seed: 5 });
    await Promise.all([first, second]);
    const e = events();
    const firstOfRun2 = e.findIndex((m) => 'run' in m && m.run === 2);
    // after run 2 began, nothing about run 1
    expect(e.slice(firstOfRun2).every((m) => 'run' in m && m.run === 2)).toBe(true);
    expect(e.filter((m) => m.type === 'done').map((m) => 'run' in m && m.run)).toEqual([2]);
    const frames2 = e.filter((m) => m.type === 'frame' && m.run === 2);
    expect(frames2.map((m) => m.type === 'frame' && m.frame.t)).toEqual([90, 80, 70, 60, 50, 40, 30, 20, 10, 0]);
    expect(e[e.length - 1]).toEqual({ channel: 'sampling', type: 'state', run: 2, state: 'idle' });
    // each run announced itself, the second while the first was still 'running'
    expect(e.filter((m) => m.type === 'state' && m.state === 'running').map((m) => 'run' in m && m.run)).toEqual([1, 2]);
    models.active.model.dispose();
  });

  it('samplers side by side: each sampler’s final image equals its own single run with the same seed', async () => {
    const { service, events, models } = sampling();
    await service.compare(7, { ...settings, batch: 2, seed: 11 });
    const finals = new Map<string, Float32Array>();
    for (const m of events())
      if (m.type === 'compareFrame' && m.frame.index === m.frame.total - 1) finals.set(m.frame.sampler, m.frame.xt.values);
    expect([...finals.keys()].sort()).toEqual(['ddim', 'ddpm', 'dpm-solver++']);
    expect(events().some((m) => m.type === 'done' && m.run === 7)).toBe(true);
    for (const [sampler, image] of finals) {
      const before = events().length;
      await service.start(8, {
        ...settings,
        batch: 2,
        seed: 11,
        sampler: sampler as SampleSettings['sampler'],
        steps: sampler === 'ddim' ? settings.steps : 20,
      });
      const last = events()
        .slice(before)
        .filter((m) => m.type === 'frame')
        .pop()!;
      expect(last.type === 'frame' && Array.from(last.frame.xt.values)).toEqual(Array.from(image));
    }
    models.active.model.dispose();
  });

  it('"denoise from here" starts from the given x_t at its timestep; a wrong-sized x_t is refused', async () => {
    const { service, events, models } = sampling();
    const xt = new Float32Array(16 * 16).fill(0.25);
    await service.start(3, { ...settings, sampler: 'ddpm', batch: 4 }, { xt, t: at(4) });
    const frames = events().flatMap((m) => (m.type === 'frame' ? [m.frame] : []));
    expect(frames.map((f) => f.t)).toEqual([4, 3, 2, 1, 0]);
    expect(frames[0].xt.batch).toBe(4);
    await expect(service.start(4, settings, { xt: new Float32Array(10), t: at(4) })).rejects.toThrow(
      /has 10 values; this model needs 16×16×1 = 256/,
    );
    models.active.model.dispose();
  });

  it('stop ends a paused run at once; a model change stops the run and frees the old model; no tensor is left behind', async () => {
    const { service, events, models } = sampling();
    const before = tf.memory().numTensors;
    const run = service.start(5, { ...settings, sampler: 'ddpm' });
    await new Promise((r) => setTimeout(r, 0));
    void service.pause();
    void service.stop();
    await run;
    expect(events().some((m) => m.type === 'done')).toBe(false);
    expect(events()[events().length - 1]).toEqual({ channel: 'sampling', type: 'state', run: 5, state: 'idle' });
    const again = service.start(6, { ...settings, sampler: 'ddpm' });
    await new Promise((r) => setTimeout(r, 0));
    const old = models.active.model;
    models.activate({ model: UNet.create(tiny, 2), diffusion, metadata: {}, source: 'imported' });
    await again;
    expect(events().some((m) => m.type === 'done' && m.run === 6)).toBe(false);
    expect(old.weights.size === 0 || [...old.weights.values()].every((w) => w.isDisposed)).toBe(true);
    // the new model has as many weights as the old one had
    expect(tf.memory().numTensors).toBe(before);
    models.active.model.dispose();
  });
});

describe('a large model is timed before its first run', () => {
  it('activating it posts one network pass’s time, with the model’s parameter count; a small one is not timed', async () => {
    const posted: FromEngine[] = [];
    const post = (m: FromEngine) => void posted.push(m);
    const models = new ModelRegistry(post);
    new SamplingService(post, models, new DeviceGate(), new Meters(), 1e6);
    const small = UNet.create({ ...tiny, baseChannels: 4, channelMults: [1] }, 1);
    models.activate({ model: small, diffusion, metadata: {}, source: 'imported' });
    const large = UNet.create(tiny, 1);
    models.activate({ model: large, diffusion, metadata: {}, source: 'imported' });
    await expect.poll(() => posted.filter((m) => m.type === 'speed')).toHaveLength(1);
    const speed = posted.find((m) => m.type === 'speed')!;
    expect(speed).toMatchObject({ channel: 'sampling', params: large.numParams });
    expect(speed.type === 'speed' && speed.msPerStep).toBeGreaterThan(0);
    large.dispose();
  });
});

describe('the engine routes by channel', () => {
  it('a new channel is one more service: it gets its requests, its failures come back on it, the others never see them', async () => {
    const posted: { channel: string; type: string; message?: string }[] = [];
    const post = (m: FromEngine) => void posted.push(m);
    const seen: unknown[] = [];
    // a dummy channel, as a test can add one: nothing of the existing services is touched
    const echo = {
      channel: 'echo',
      handle: (request: { type: string }) => {
        if (request.type === 'fail') throw new Error('echo failed');
        seen.push(request);
      },
    } as unknown as ChannelService;
    const engine = new Engine(post, [...createServices(post), echo]);
    const send = (m: object) => engine.handle(m as ToEngine);
    await send({ channel: 'echo', type: 'ping' });
    await send({ channel: 'echo', type: 'fail' });
    await send({ channel: 'models', type: 'export' });
    expect(seen).toEqual([{ channel: 'echo', type: 'ping' }]);
    expect(posted).toEqual([
      { channel: 'echo', type: 'error', message: 'echo failed' },
      { channel: 'models', type: 'error', message: expect.stringMatching(/train a model first/) as string },
    ]);
    await send({ channel: 'nowhere', type: 'x' });
    expect(posted.at(-1)).toEqual({ channel: 'nowhere', type: 'error', message: "no service handles the 'nowhere' channel" });
    expect(() => new Engine(post, [echo, echo])).toThrow(/two services for the 'echo' channel/);
  });

  it('the device gate: tfjs work waits for an exclusive job (the warm-up); none starts while training holds the device; its release lets one catch up', async () => {
    const gate = new DeviceGate();
    const order: string[] = [];
    let finish!: () => void;
    expect(gate.runExclusive(() => new Promise<void>((r) => (finish = r)).then(() => void order.push('warm-up done')))).toBe(true);
    const waiting = gate.ready().then(() => void order.push('sampling runs'));
    await new Promise((r) => setTimeout(r, 0));
    expect(order).toEqual([]);
    finish();
    await waiting;
    expect(order).toEqual(['warm-up done', 'sampling runs']);
    const released: number[] = [];
    gate.onRelease.add(() => released.push(1));
    const release = await gate.hold();
    expect(gate.held).toBe(true);
    expect(gate.runExclusive(() => Promise.resolve())).toBe(false);
    release();
    release(); // a second call does nothing
    expect(gate.held).toBe(false);
    expect(released).toEqual([1]);
  });
});

describe('behaviour kept through the architecture change', () => {
  it('the same settings and seed give the same final pixels as before it (tests/fixtures/golden, written by the code before)', async () => {
    const golden = JSON.parse(readFileSync('tests/fixtures/golden/final-samples.json', 'utf8')) as Record<string, string>;
    const posted: FromEngine[] = [];
    const post = (m: FromEngine) => void posted.push(m);
    const models = new ModelRegistry(post);
    models.activate({ ...(await loadModel(fileHandler('public/models/mnist/model.json'))), source: 'shipped' });
    const sampling = new SamplingService(post, models, new DeviceGate(), new Meters());
    const runs: Record<string, SampleSettings> = {
      'ddim-10-label7-g1.5-seed3': { sampler: 'ddim', steps: 10, eta: 0, batch: 2, label: 7, guidance: 1.5, seed: 3 },
      'dpm-20-nolabel-seed11': { sampler: 'dpm-solver++', steps: 20, eta: 0, batch: 1, label: null, guidance: 1.5, seed: 11 },
    };
    for (const [name, settings] of Object.entries(runs)) {
      posted.length = 0;
      await sampling.handle({ channel: 'sampling', type: 'start', run: 1, settings });
      const last = posted.filter((m) => m.type === 'frame').pop()!;
      const expected = new Float32Array(Buffer.from(golden[name], 'base64').buffer.slice(0));
      expect(last.type === 'frame' && Array.from(last.frame.xt.values)).toEqual(Array.from(expected));
    }
    models.active.model.dispose();
  });
});
