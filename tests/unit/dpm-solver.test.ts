import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { DDIMScheduler, DPMSolverMultistepScheduler, type DPMSolverConfig } from '../../src/diffusion';
import { at, dummyModel, dummyNoise, dummySample, expectClose, expectNoLeak, values } from './helpers';

/** diffusers' test config (tests/schedulers/test_scheduler_dpm_multi.py): 2M, midpoint, no lower-order final step, final σ of t = 0. */
const reference: DPMSolverConfig = {
  numTrainTimesteps: 1000,
  betaSchedule: 'linear',
  clipSample: false,
  solverOrder: 2,
  lowerOrderFinal: false,
  finalSigmasType: 'sigma_min',
};

async function absStats(x: tf.Tensor) {
  const [sum, mean] = tf.tidy(() => [tf.sum(tf.abs(x)), tf.mean(tf.abs(x))] as tf.Tensor[]);
  const stats = { sum: (await values(sum))[0], mean: (await values(mean))[0] };
  tf.dispose([sum, mean]);
  return stats;
}

/** diffusers' full_loop: 10 steps of the dummy model from the deterministic sample, optionally from an x_t noised at timesteps[start]. */
async function fullLoop(s: DPMSolverMultistepScheduler, start = 0) {
  s.setTimesteps(10);
  let x = dummySample();
  if (start > 0) {
    const noise = dummyNoise();
    const noised = s.addNoise(x, noise, s.timesteps[start]);
    tf.dispose([x, noise]);
    x = noised;
  }
  for (const t of s.timesteps.slice(start)) {
    const eps = dummyModel(x, t);
    const out = s.step(eps, t, x);
    tf.dispose([x, eps, out.predOriginalSample]);
    x = out.prevSample;
  }
  const stats = await absStats(x);
  x.dispose();
  return stats;
}

describe('DPMSolverMultistepScheduler: DPM-Solver++(2M), Lu et al. 2022', () => {
  it('"linspace" spacing: round(linspace(0, 999, n+1)) reversed, 0 dropped, halves to even, no duplicates', () => {
    const s = new DPMSolverMultistepScheduler(reference);
    s.setTimesteps(10);
    expect(s.timesteps).toEqual([999, 899, 799, 699, 599, 500, 400, 300, 200, 100]);
    s.setTimesteps(1000); // linspace(0, 999, 1001) rounds two values to 500: diffusers keeps one
    expect(s.timesteps.length).toBe(999);
    expect(new Set(s.timesteps).size).toBe(999);
    expect(s.timesteps[0]).toBe(999);
    expect(() => s.setTimesteps(0)).toThrow(/numInferenceSteps/);
  });

  it("reproduces diffusers' full loop (test_full_loop_no_noise): mean |x| 0.3301", async () => {
    const r = await fullLoop(new DPMSolverMultistepScheduler(reference));
    expect(Math.abs(r.mean - 0.3301)).toBeLessThan(1e-3);
  });

  it("reproduces diffusers' loop from a noised sample (test_full_loop_with_noise): Σ|x| 318.4111, mean 0.4146", async () => {
    const r = await fullLoop(new DPMSolverMultistepScheduler(reference), 5);
    expect(Math.abs(r.sum - 318.4111)).toBeLessThan(1e-2);
    expect(Math.abs(r.mean - 0.4146)).toBeLessThan(1e-3);
  });

  it("reproduces diffusers' v-prediction full loop: mean |x| 0.2251", async () => {
    const r = await fullLoop(new DPMSolverMultistepScheduler({ ...reference, predictionType: 'v_prediction' }));
    expect(Math.abs(r.mean - 0.2251)).toBeLessThan(1e-3);
  });

  it('first order is DDIM with η = 0 (Lu et al. 2022, §3.1): same x for the same timesteps', async () => {
    const dpm = new DPMSolverMultistepScheduler({ ...reference, solverOrder: 1 });
    const ddim = new DDIMScheduler({ numTrainTimesteps: 1000, betaSchedule: 'linear', clipSample: false });
    dpm.setTimesteps(10);
    const x = dummySample();
    const eps = dummyModel(x, 500);
    // a DDIM step of 50 steps lands 20 below; DPM's 10-step grid goes 500 → 400: compare the step 500 → 400 with DDIM of 10 steps
    ddim.setTimesteps(10);
    const a = dpm.step(eps, at(500), x);
    const b = ddim.step(eps, at(500), x);
    expectClose(await values(a.prevSample), await values(b.prevSample), 1e-5);
    tf.dispose([x, eps, a.prevSample, a.predOriginalSample, b.prevSample, b.predOriginalSample]);
  });

  it('the second-order step is eq. (9) of DPM-Solver++ with the midpoint D1, computed here in float64', async () => {
    const s = new DPMSolverMultistepScheduler(reference);
    s.setTimesteps(10);
    const ac = s.schedule.alphasCumprod;
    const xv = [0.4, -1.3, 0.9, 2.1];
    const epsA = [0.2, -0.5, 1.2, 0.3];
    const epsB = [-0.1, 0.6, 0.8, -0.9];
    const x = tf.tensor4d(xv, [1, 2, 2, 1]);
    const [ea, eb] = [tf.tensor4d(epsA, [1, 2, 2, 1]), tf.tensor4d(epsB, [1, 2, 2, 1])];
    const first = s.step(ea, at(999), x); // 999 → 899, first order
    const x1 = await values(first.prevSample);
    const second = s.step(eb, at(899), first.prevSample); // 899 → 799, second order
    const lambda = (t: number) => 0.5 * Math.log(ac[t] / (1 - ac[t]));
    const x0 = (xs: ArrayLike<number>, e: number[], t: number) =>
      Array.from(xs, (v, i) => (v - Math.sqrt(1 - ac[t]) * e[i]) / Math.sqrt(ac[t]));
    const d0 = x0(x1, epsB, 899);
    const dPrev = x0(xv, epsA, 999);
    const h = lambda(799) - lambda(899);
    const r = (lambda(899) - lambda(999)) / h;
    const expected = Array.from(x1, (v, i) => {
      const d = d0[i] + (0.5 / r) * (d0[i] - dPrev[i]);
      return (Math.sqrt(1 - ac[799]) / Math.sqrt(1 - ac[899])) * v - Math.sqrt(ac[799]) * Math.expm1(-h) * d;
    });
    expectClose(await values(second.prevSample), expected, 1e-5);
    s.reset();
    tf.dispose([x, ea, eb, first.prevSample, first.predOriginalSample, second.prevSample, second.predOriginalSample]);
  });

  it("final σ = 0 (the page's default) ends on x̂0 itself", async () => {
    const s = new DPMSolverMultistepScheduler({ numTrainTimesteps: 1000, betaSchedule: 'linear' });
    s.setTimesteps(5);
    const x = tf.tensor4d([0.3, -0.2, 0.5, 0.1], [1, 2, 2, 1]);
    const eps = tf.tensor4d([0.01, -0.02, 0.03, 0], [1, 2, 2, 1]);
    const out = s.step(eps, s.timesteps[4], x);
    expectClose(await values(out.prevSample), await values(out.predOriginalSample), 1e-6);
    tf.dispose([x, eps, out.prevSample, out.predOriginalSample]);
  });

  it('frees its remembered x̂0 at the end of a run and on reset; rejects a timestep outside the run', async () => {
    const s = new DPMSolverMultistepScheduler(reference);
    await expectNoLeak(async () => {
      await fullLoop(s);
      s.setTimesteps(20);
      const x = dummySample();
      const eps = dummyModel(x, 999);
      const out = s.step(eps, s.timesteps[0], x);
      s.reset();
      tf.dispose([x, eps, out.prevSample, out.predOriginalSample]);
    });
    const x = tf.zeros([1, 2, 2, 1]);
    expect(() => s.step(x, at(998), x)).toThrow(/not one of this run's timesteps/);
    expect(() => new DPMSolverMultistepScheduler(reference).step(x, at(999), x)).toThrow(/setTimesteps/);
    x.dispose();
  });
});
