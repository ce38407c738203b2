import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { GaussianRng } from '../../src/diffusion';
import { runSteps, SAMPLER_NAMES, SAMPLERS } from '../../src/pipeline/defaults';
import { makeScheduler } from '../../src/pipeline/sample';
import { dummyModel, dummySample, expectClose, expectNoLeak, values } from './helpers';

const diffusion = { numTrainTimesteps: 1000, betaSchedule: 'linear' as const, predictionType: 'epsilon' as const };

/** What every scheduler behind the contract must do, whichever it is. */
describe.each(SAMPLER_NAMES)('the Scheduler contract: %s', (sampler) => {
  it('setTimesteps(n) gives n distinct integer timesteps in [0, T), descending', () => {
    for (const n of [1, 7, 50]) {
      const s = makeScheduler(diffusion, { sampler, steps: n });
      s.setTimesteps(n);
      expect(s.timesteps).toHaveLength(n);
      expect(s.timesteps.every((t, i) => Number.isInteger(t) && t >= 0 && t < 1000 && (i === 0 || t < s.timesteps[i - 1]))).toBe(true);
    }
    expect(() => makeScheduler(diffusion, { sampler, steps: 10 }).setTimesteps(0)).toThrow(/numInferenceSteps/);
  });

  it("the page's spacing table (SAMPLERS.spacing, shown before a run) visits exactly the scheduler's timesteps", () => {
    for (const T of [10, 1000]) {
      const d = { ...diffusion, numTrainTimesteps: T };
      for (const steps of [1, 3, 7, 10, 20, 50])
        if (steps <= T) {
          const n = runSteps(sampler, steps, T);
          expect(SAMPLERS[sampler].spacing(T, n)).toEqual([...makeScheduler(d, { sampler, steps }).timesteps]);
        }
    }
  });

  it('addNoise is eq. (4)', async () => {
    const s = makeScheduler(diffusion, { sampler, steps: 10 });
    const x0 = tf.tensor1d([0.5, -1, 0.25]);
    const eps = tf.tensor1d([1, 0.5, -2]);
    const ac = s.schedule.alphasCumprod[300];
    const xt = s.addNoise(x0, eps, 300);
    expectClose(
      await values(xt),
      [0.5, -1, 0.25].map((x, i) => Math.sqrt(ac) * x + Math.sqrt(1 - ac) * [1, 0.5, -2][i]),
      1e-6,
    );
    tf.dispose([x0, eps, xt]);
  });

  it('a full run returns tensors the caller owns and, after reset(), leaves none behind', async () => {
    const s = makeScheduler(diffusion, { sampler, steps: 10 });
    const rng = new GaussianRng(1);
    await expectNoLeak(async () => {
      let x = dummySample();
      for (const t of s.timesteps) {
        const eps = dummyModel(x, t);
        const out = s.step(eps, t, x, { noise: rng, eta: 0.5 });
        tf.dispose([x, eps, out.predOriginalSample]);
        x = out.prevSample;
      }
      s.reset();
      await values(x);
      x.dispose();
    });
  });
});

/**
 * Guidance (s > 1) extrapolates ε̂, so x̂0 leaves [−1, 1] and is clipped. A deterministic step must then
 * use the ε̂ that agrees with the clipped x̂0, landing on that x̂0's own noising path; DDIM with the
 * model's raw ε̂ (diffusers' default) added the excess back at every step and guided digits swelled
 * into blobs. DPM-Solver++'s first-order step does this by construction.
 */
describe.each(['ddim', 'dpm-solver++'] as const)('the page’s %s with an ε̂ that pushes x̂0 out of range', (sampler) => {
  it('lands on the clipped x̂0’s noising path: x_prev = √ᾱ_prev·x̂0 + √(1−ᾱ_prev)·(x_t − √ᾱ_t·x̂0)/√(1−ᾱ_t)', async () => {
    const s = makeScheduler(diffusion, { sampler, steps: 10 });
    const [t, prev] = s.timesteps;
    const xt = [0.9, -0.4, 1.7, -2.2, 0.1];
    const eps = [-3, 2.5, -1, 4, 0.2];
    const ac = s.schedule.alphasCumprod[t];
    const acPrev = s.schedule.alphasCumprod[prev];
    const x0 = xt.map((x, i) => Math.min(1, Math.max(-1, (x - Math.sqrt(1 - ac) * eps[i]) / Math.sqrt(ac))));
    expect(x0.filter((v) => Math.abs(v) === 1).length).toBeGreaterThanOrEqual(3); // the case in question: clipped
    const expected = x0.map((v, i) => Math.sqrt(acPrev) * v + (Math.sqrt(1 - acPrev) * (xt[i] - Math.sqrt(ac) * v)) / Math.sqrt(1 - ac));
    const [x, e] = [tf.tensor1d(xt), tf.tensor1d(eps)];
    const out = s.step(e, t, x, { eta: 0 });
    expectClose(await values(out.predOriginalSample), x0, 1e-6);
    expectClose(await values(out.prevSample), expected, 1e-5);
    tf.dispose([x, e, out.prevSample, out.predOriginalSample]);
    s.reset();
  });
});
