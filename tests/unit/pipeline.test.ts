import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { DDIMScheduler, DDPMScheduler, GaussianRng } from '../../src/diffusion';
import { DEFAULT_UNET_CONFIG, type UNetConfig } from '../../src/model/config';
import { UNet } from '../../src/model/model';
import { guidedNoise, runTimesteps, sample } from '../../src/pipeline/sample';
import { expectClose, expectNoLeak, values } from './helpers';

const config: UNetConfig = { ...DEFAULT_UNET_CONFIG, imageSize: 16, baseChannels: 8, channelMults: [1, 2], groups: 4, numClasses: 3 };
// T = 100 keeps the full DDPM runs short on the CPU backend; the loop is the same for any T.
const diffusion = { numTrainTimesteps: 100, betaSchedule: 'linear' as const, predictionType: 'epsilon' as const };

function liveModel(): UNet {
  const m = UNet.create(config, 2);
  m.weights.get('conv_out.weight')!.assign(tf.randomNormal([3, 3, 8, 1], 0, 0.2, 'float32', 4));
  return m;
}

async function finalSample(model: UNet, seed: number, extra: Partial<Parameters<typeof sample>[2]> = {}) {
  let last: Float32Array | null = null;
  let count = 0;
  for (const step of sample(model, diffusion, { sampler: 'ddim', steps: 5, batch: 2, labels: [0, 2], guidance: 2, seed, ...extra })) {
    last = await values(step.sample);
    count++;
  }
  return { last: last!, count };
}

describe('sampling pipeline', () => {
  it('is the unrolled loop: model, then scheduler step (DDIM)', async () => {
    const model = liveModel();
    const steps = [...runTimesteps(diffusion, { sampler: 'ddim', steps: 5 })];
    expect(steps).toEqual([80, 60, 40, 20, 0]);
    // by hand
    const rng = new GaussianRng(11);
    let x = rng.randn([2, 16, 16, 1]);
    const s = new DDIMScheduler({ ...diffusion, clipSample: true });
    s.setTimesteps(5);
    for (const t of s.timesteps) {
      const eps = guidedNoise(model, x, t, [0, 2], 2);
      const out = s.step(eps, t, x, { eta: 0, noise: rng });
      tf.dispose([x, eps, out.predOriginalSample]);
      x = out.prevSample;
    }
    const { last, count } = await finalSample(model, 11);
    expect(count).toBe(5);
    expectClose(last, await values(x), 1e-6);
    x.dispose();
    model.dispose();
  });

  it('the same seed gives identical pixels; another seed different ones', async () => {
    const model = liveModel();
    const a = await finalSample(model, 1, { sampler: 'ddpm', batch: 1, guidance: 1 });
    const b = await finalSample(model, 1, { sampler: 'ddpm', batch: 1, guidance: 1 });
    const c = await finalSample(model, 2, { sampler: 'ddpm', batch: 1, guidance: 1 });
    expect(a.count).toBe(100);
    expect(Array.from(a.last)).toEqual(Array.from(b.last));
    expect(Array.from(a.last)).not.toEqual(Array.from(c.last));
    model.dispose();
  });

  it('classifier-free guidance: ε_u + s(ε_c − ε_u); s = 1 is plain conditional; s = 0 unconditional', async () => {
    const model = liveModel();
    const x = tf.randomNormal([2, 16, 16, 1], 0, 1, 'float32', 5);
    const ts = tf.fill([2], 30) as tf.Tensor1D;
    const cond = await values(model.predict(x, ts, { labels: tf.tensor1d([1, 2], 'int32') }));
    const uncond = await values(model.predict(x, ts, { labels: tf.tensor1d([3, 3], 'int32') }));
    const guided = await values(guidedNoise(model, x, 30, [1, 2], 3));
    expectClose(guided, Array.from(cond, (c, i) => uncond[i] + 3 * (c - uncond[i])), 1e-5);
    expectClose(await values(guidedNoise(model, x, 30, [1, 2], 1)), cond, 1e-6);
    expectClose(await values(guidedNoise(model, x, 30, [1, 2], 0)), uncond, 1e-5);
    expectClose(await values(guidedNoise(model, x, 30, [null, null], 4)), uncond, 1e-6);
    model.dispose();
  });

  it('"denoise from here" starts at the given x_t and visits only t ≤ start', async () => {
    const model = liveModel();
    const init = tf.randomNormal([1, 16, 16, 1], 0, 1, 'float32', 8);
    const seen: number[] = [];
    for (const step of sample(model, diffusion, { sampler: 'ddpm', batch: 1, seed: 0, init: { sample: init, timestep: 9 } })) seen.push(step.t);
    expect(seen).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    expect(init.isDisposed).toBe(false);
    expect(new DDPMScheduler(diffusion).timesteps.length).toBe(100);
    init.dispose();
    model.dispose();
  });

  it('frees every tensor over a full DDPM run, and when stopped early', async () => {
    const model = liveModel();
    await expectNoLeak(async () => {
      for (const step of sample(model, diffusion, { sampler: 'ddpm', batch: 1, labels: [1], guidance: 2, seed: 3 })) {
        if (step.index % 250 === 0) await step.predOriginalSample.data();
      }
      for (const step of sample(model, diffusion, { sampler: 'ddim', steps: 20, batch: 1, seed: 3 })) {
        if (step.index === 3) break;
      }
    });
    model.dispose();
  });
});
