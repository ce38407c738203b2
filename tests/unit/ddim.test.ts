import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { DDIMScheduler, DDPMScheduler, GaussianRng } from '../../src/diffusion';
import { at, dummyModel, dummySample, expectClose, expectNoLeak, values } from './helpers';

const config = { numTrainTimesteps: 1000, betaSchedule: 'linear' as const };

async function fullLoop(scheduler: DDIMScheduler, steps: number, eta: number, model = dummyModel) {
  scheduler.setTimesteps(steps);
  let x = dummySample();
  for (const t of scheduler.timesteps) {
    const out = scheduler.step(model(x, t), t, x, { eta });
    tf.dispose([x, out.predOriginalSample]);
    x = out.prevSample;
  }
  const absX = tf.abs(x);
  const sum = (await values(tf.sum(absX)))[0];
  const mean = (await values(tf.mean(absX)))[0];
  tf.dispose([x, absX]);
  return { sum, mean };
}

describe('DDIMScheduler (Song et al. 2021)', () => {
  it('"leading" spacing: 10 steps of 1000 are 900, 800, …, 0, shifted by stepsOffset', () => {
    const s = new DDIMScheduler(config);
    s.setTimesteps(10);
    expect(s.timesteps).toEqual([900, 800, 700, 600, 500, 400, 300, 200, 100, 0]);
    const o = new DDIMScheduler({ ...config, stepsOffset: 1 });
    o.setTimesteps(5);
    expect(o.timesteps).toEqual([801, 601, 401, 201, 1]);
    s.setTimesteps(1000);
    expect(s.timesteps[0]).toBe(999);
    expect(() => s.setTimesteps(0)).toThrow(/numInferenceSteps/);
    expect(() => s.setTimesteps(1001)).toThrow(/numInferenceSteps/);
  });

  it("reproduces diffusers' full loop: 10 steps, η = 0 → Σ|x| 172.0067, mean 0.223967", async () => {
    const r = await fullLoop(new DDIMScheduler({ ...config, clipSample: true }), 10, 0);
    expect(Math.abs(r.sum - 172.0067)).toBeLessThan(1e-2);
    expect(Math.abs(r.mean - 0.223967)).toBeLessThan(1e-3);
  });

  it("reproduces diffusers' v-prediction full loop: Σ|x| 52.5302, mean 0.0684", async () => {
    const r = await fullLoop(new DDIMScheduler({ ...config, predictionType: 'v_prediction' }), 10, 0);
    expect(Math.abs(r.sum - 52.5302)).toBeLessThan(1e-2);
    expect(Math.abs(r.mean - 0.0684)).toBeLessThan(1e-3);
  });

  it('getVariance(t, prev) is σ_t(η=1)², equal to DDPM β̃_t for consecutive steps', () => {
    const s = new DDIMScheduler(config);
    const ddpm = new DDPMScheduler(config);
    const ac = s.schedule.alphasCumprod;
    expect(s.getVariance(900, 800)).toBeCloseTo(((1 - ac[800]) / (1 - ac[900])) * (1 - ac[900] / ac[800]), 14);
    for (const t of [1, 487, 999]) expect(s.getVariance(t, t - 1)).toBeCloseTo(ddpm.getVariance(t), 14);
    expect(s.getVariance(0, -1)).toBe(0);
  });

  it('step is eq. (12) of Song et al.', async () => {
    const s = new DDIMScheduler({ ...config, clipSample: false });
    s.setTimesteps(50);
    const ac = s.schedule.alphasCumprod;
    const xt = tf.tensor4d([0.3, -1.2, 2.0, 0.7], [1, 2, 2, 1]);
    const eps = tf.tensor4d([0.1, -0.4, 1.5, -0.2], [1, 2, 2, 1]);
    const z = tf.tensor4d([0.5, 1.0, -1.0, 0.25], [1, 2, 2, 1]);
    const [xv, ev, zv] = [await values(xt), await values(eps), await values(z)];
    const eta = 0.5;
    const [t, prev] = [500, 480];
    const out = s.step(eps, at(t), xt, { eta, noise: z });
    const sigma = eta * Math.sqrt(((1 - ac[prev]) / (1 - ac[t])) * (1 - ac[t] / ac[prev]));
    const expected = Array.from(xv, (x, i) => {
      const x0 = (x - Math.sqrt(1 - ac[t]) * ev[i]) / Math.sqrt(ac[t]);
      return Math.sqrt(ac[prev]) * x0 + Math.sqrt(1 - ac[prev] - sigma ** 2) * ev[i] + sigma * zv[i];
    });
    expectClose(await values(out.prevSample), expected, 1e-5);
    tf.dispose([xt, eps, z, out.prevSample, out.predOriginalSample]);
  });

  it('with η = 1 over all 1000 steps equals DDPM (fixed_small) given the same noise', async () => {
    const ddim = new DDIMScheduler({ ...config, clipSample: false });
    const ddpm = new DDPMScheduler({ ...config, clipSample: false });
    ddim.setTimesteps(1000);
    expect(ddim.timesteps).toEqual(ddpm.timesteps);
    const rngA = new GaussianRng(3);
    const rngB = new GaussianRng(3);
    let a = dummySample();
    let b = dummySample();
    let worst = 0;
    for (const t of ddpm.timesteps) {
      const outA = ddim.step(dummyModel(a, t), t, a, { eta: 1, noise: rngA });
      // DDIM draws noise at t = 0 too (σ = 0 there); keep the generators in step
      const outB = ddpm.step(dummyModel(b, t), t, b, { noise: t > 0 ? rngB : rngB.randn(b.shape) });
      tf.dispose([a, b, outA.predOriginalSample, outB.predOriginalSample]);
      [a, b] = [outA.prevSample, outB.prevSample];
      if (t % 100 === 0) {
        const [av, bv] = [await values(a), await values(b)];
        for (let i = 0; i < av.length; i++) worst = Math.max(worst, Math.abs(av[i] - bv[i]));
      }
    }
    expect(worst).toBeLessThan(1e-4);
    tf.dispose([a, b]);
  });

  it('η = 0 is deterministic: the noise argument has no effect', async () => {
    const s = new DDIMScheduler(config);
    s.setTimesteps(20);
    const x = dummySample();
    const eps = dummyModel(x, 400);
    const a = s.step(eps, at(400), x, { eta: 0, noise: new GaussianRng(1) });
    const b = s.step(eps, at(400), x, { eta: 0, noise: new GaussianRng(2) });
    expectClose(await values(a.prevSample), await values(b.prevSample), 0);
    tf.dispose([x, eps, a.prevSample, a.predOriginalSample, b.prevSample, b.predOriginalSample]);
  });

  it('setAlphaToOne chooses the final ᾱ', () => {
    const one = new DDIMScheduler(config);
    const notOne = new DDIMScheduler({ ...config, setAlphaToOne: false });
    expect(one.finalAlphaCumprod).toBe(1);
    expect(notOne.finalAlphaCumprod).toBe(notOne.schedule.alphasCumprod[0]);
  });

  it('does not leak tensors over a 1000-step loop', async () => {
    const s = new DDIMScheduler(config);
    s.setTimesteps(1000);
    const rng = new GaussianRng(0);
    await expectNoLeak(async () => {
      let x = rng.randn([2, 4, 4, 1]);
      for (const t of s.timesteps) {
        const eps = dummyModel(x, t);
        const out = s.step(eps, t, x, { eta: 0.5, noise: rng });
        tf.dispose([x, eps, out.predOriginalSample]);
        x = out.prevSample;
      }
      await values(x);
      x.dispose();
    });
  });

  it('fails loudly before setTimesteps and on a negative η', () => {
    const s = new DDIMScheduler(config);
    const x = tf.zeros([1, 2, 2, 1]);
    expect(() => s.step(x, at(10), x)).toThrow(/setTimesteps/);
    s.setTimesteps(10);
    expect(() => s.step(x, at(10), x, { eta: -1 })).toThrow(/eta/);
    x.dispose();
  });
});
