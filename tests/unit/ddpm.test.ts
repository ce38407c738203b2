import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { DDPMScheduler, GaussianRng, qPosterior, velocity, type Timestep } from '../../src/diffusion';
import { at, dummyModel, expectClose, expectNoLeak, values } from './helpers';

const config = { numTrainTimesteps: 1000, betaSchedule: 'linear' as const };

describe('DDPMScheduler', () => {
  it('runs T−1 … 0', () => {
    const s = new DDPMScheduler(config);
    expect(s.timesteps.length).toBe(1000);
    expect(s.timesteps[0]).toBe(999);
    expect(s.timesteps[999]).toBe(0);
  });

  it("fixed_small variance matches diffusers' reference values", () => {
    const s = new DDPMScheduler(config);
    expect(s.getVariance(0)).toBe(1e-20);
    expect(Math.abs(s.getVariance(487) - 0.00979)).toBeLessThan(1e-5);
    expect(Math.abs(s.getVariance(999) - 0.02)).toBeLessThan(1e-5);
  });

  it('fixed_large variance is β_t; fixed_small is β̃_t of eq. (7)', () => {
    const large = new DDPMScheduler({ ...config, varianceType: 'fixed_large' });
    const small = new DDPMScheduler(config);
    const { betas, alphasCumprod: ac } = small.schedule;
    for (const t of [1, 300, 999]) {
      expect(large.getVariance(t)).toBeCloseTo(betas[t], 12);
      expect(small.getVariance(t)).toBeCloseTo(((1 - ac[t - 1]) / (1 - ac[t])) * betas[t], 12);
    }
  });

  it('addNoise is eq. (4) for a scalar t and for per-example timesteps', async () => {
    const s = new DDPMScheduler(config);
    const ac = s.schedule.alphasCumprod;
    const x0 = tf.tensor4d([0.5, -0.25, 1, -1, 0.1, 0.2], [2, 1, 3, 1]);
    const eps = tf.tensor4d([1, 2, -1, 0.5, -0.5, 0], [2, 1, 3, 1]);
    const x0v = await values(x0);
    const epsv = await values(eps);
    const single = s.addNoise(x0, eps, 487);
    expectClose(
      await values(single),
      Array.from(x0v, (x, i) => Math.sqrt(ac[487]) * x + Math.sqrt(1 - ac[487]) * epsv[i]),
      1e-6,
    );
    const ts = tf.tensor1d([0, 999], 'int32');
    const perExample = s.addNoise(x0, eps, ts);
    const expected = Array.from(x0v, (x, i) => {
      const t = i < 3 ? 0 : 999;
      return Math.sqrt(ac[t]) * x + Math.sqrt(1 - ac[t]) * epsv[i];
    });
    expectClose(await values(perExample), expected, 1e-6);
    tf.dispose([x0, eps, single, ts, perExample]);
    expect(() => s.addNoise(tf.zeros([1, 2]), tf.zeros([1, 3]), 1)).toThrow(/same shape/);
    expect(() => s.addNoise(tf.zeros([1, 2]), tf.zeros([1, 2]), 1000)).toThrow(/timestep/);
  });

  it('the forward process empirically: mean √ᾱ x0 and variance 1 − ᾱ (many noise draws)', async () => {
    const s = new DDPMScheduler(config);
    const N = 20000;
    const x0Values = [0.8, -0.6, 0.0, 1.0];
    const rng = new GaussianRng(7);
    for (const t of [0, 50, 250, 500, 999]) {
      const x0 = tf.tidy(() => tf.tensor1d(x0Values).reshape([1, 4]).tile([N, 1]));
      const noise = rng.randn([N, 4]);
      const xt = s.addNoise(x0, noise, t);
      const { mean, variance } = tf.moments(xt, 0);
      const m = await values(mean);
      const v = await values(variance);
      const ac = s.schedule.alphasCumprod[t];
      for (let j = 0; j < 4; j++) {
        // sampling error of the mean is σ/√N, of the variance ≈ σ²√(2/N); allow 5 standard errors
        expect(Math.abs(m[j] - Math.sqrt(ac) * x0Values[j])).toBeLessThan(5 * Math.sqrt((1 - ac) / N));
        expect(Math.abs(v[j] - (1 - ac))).toBeLessThan(5 * (1 - ac) * Math.sqrt(2 / N));
      }
      tf.dispose([x0, noise, xt, mean, variance]);
    }
  });

  it('step is the posterior mean of eq. (7) at x̂0 = eq. (15), plus σ_t z (Algorithm 2)', async () => {
    const s = new DDPMScheduler({ ...config, clipSample: false });
    const { alphasCumprod: ac, alphas, betas } = s.schedule;
    const xt = tf.tensor4d([0.3, -1.2, 2.0, 0.7], [1, 2, 2, 1]);
    const eps = tf.tensor4d([0.1, -0.4, 1.5, -0.2], [1, 2, 2, 1]);
    const z = tf.tensor4d([0.5, 1.0, -1.0, 0.25], [1, 2, 2, 1]);
    const [xv, ev, zv] = [await values(xt), await values(eps), await values(z)];
    for (const t of [999, 487, 10, 1]) {
      const out = s.step(eps, at(t), xt, { noise: z });
      const x0 = Array.from(xv, (x, i) => (x - Math.sqrt(1 - ac[t]) * ev[i]) / Math.sqrt(ac[t]));
      const mean = x0.map(
        (x0i, i) =>
          ((Math.sqrt(ac[t - 1]) * betas[t]) / (1 - ac[t])) * x0i + ((Math.sqrt(alphas[t]) * (1 - ac[t - 1])) / (1 - ac[t])) * xv[i],
      );
      // Algorithm 2 written with ε directly: x_{t−1} = (x_t − β_t/√(1−ᾱ_t) ε)/√α_t + σ_t z — eq. (11)
      const eq11 = Array.from(xv, (x, i) => (x - (betas[t] / Math.sqrt(1 - ac[t])) * ev[i]) / Math.sqrt(alphas[t]));
      const sigma = Math.sqrt(((1 - ac[t - 1]) / (1 - ac[t])) * betas[t]);
      const tol = 2e-5 * Math.max(1, ...x0.map(Math.abs));
      expectClose(await values(out.predOriginalSample), x0, tol);
      expectClose(
        await values(out.prevSample),
        mean.map((m, i) => m + sigma * zv[i]),
        tol,
      );
      expectClose(
        await values(out.prevSample),
        eq11.map((m, i) => m + sigma * zv[i]),
        tol,
      );
      tf.dispose([out.prevSample, out.predOriginalSample]);
    }
    tf.dispose([xt, eps, z]);
  });

  it('adds no noise at t = 0 and returns x̂0 there', async () => {
    const s = new DDPMScheduler(config);
    const xt = tf.tensor4d([0.3, -0.2, 0.5, 0.1], [1, 2, 2, 1]);
    const eps = tf.tensor4d([0.01, -0.02, 0.03, 0], [1, 2, 2, 1]);
    const a = s.step(eps, at(0), xt, { noise: new GaussianRng(1) });
    const b = s.step(eps, at(0), xt, { noise: new GaussianRng(2) });
    expectClose(await values(a.prevSample), await values(b.prevSample), 0);
    expectClose(await values(a.prevSample), await values(a.predOriginalSample), 1e-6);
    tf.dispose([xt, eps, a.prevSample, a.predOriginalSample, b.prevSample, b.predOriginalSample]);
  });

  it('clips x̂0 to [−1, 1] when clipSample', async () => {
    const s = new DDPMScheduler(config);
    const xt = tf.tensor4d([5, -5, 0.5, 0], [1, 2, 2, 1]);
    const eps = tf.zeros([1, 2, 2, 1]);
    const out = s.step(eps, at(999), xt, { noise: tf.zeros([1, 2, 2, 1]) });
    const x0 = await values(out.predOriginalSample);
    expect(Math.max(...x0)).toBe(1);
    expect(Math.min(...x0)).toBe(-1);
    tf.dispose([xt, eps, out.prevSample, out.predOriginalSample]);
  });

  it('ε, x0 and v predictions of the same truth give the same step', async () => {
    const schedulers = (['epsilon', 'sample', 'v_prediction'] as const).map(
      (predictionType) => new DDPMScheduler({ ...config, predictionType, clipSample: false }),
    );
    const ac = schedulers[0].schedule.alphasCumprod;
    const t = 321;
    const x0 = tf.tensor4d([0.2, -0.7, 0.9, 0.0], [1, 2, 2, 1]);
    const eps = tf.tensor4d([1.1, 0.3, -0.8, 0.4], [1, 2, 2, 1]);
    const z = tf.tensor4d([0.2, 0.2, -0.3, 0.1], [1, 2, 2, 1]);
    const xt = schedulers[0].addNoise(x0, eps, t);
    const v = velocity(x0, eps, ac[t]);
    const outs = [
      schedulers[0].step(eps, at(t), xt, { noise: z }),
      schedulers[1].step(x0, at(t), xt, { noise: z }),
      schedulers[2].step(v, at(t), xt, { noise: z }),
    ];
    const ref = await values(outs[0].prevSample);
    for (const o of outs) {
      expectClose(await values(o.prevSample), ref, 2e-5);
      expectClose(await values(o.predOriginalSample), await values(x0), 2e-5);
    }
    tf.dispose([x0, eps, z, xt, v, ...outs.flatMap((o) => [o.prevSample, o.predOriginalSample])]);
  });

  it('qPosterior is the Gaussian conditional of x_{t−1} given x_t and x0 (eq. 6–7 derived another way)', async () => {
    // x_{t−1} | x0 ~ N(√ᾱ_{t−1} x0, 1 − ᾱ_{t−1}); x_t = √α_t x_{t−1} + √β_t ε. Conditioning the joint
    // Gaussian on x_t: mean = E[x_{t−1}] + Cov/Var (x_t − E[x_t]), variance = Var − Cov²/Var.
    const { alphasCumprod: ac, alphas } = new DDPMScheduler(config).schedule;
    const x0v = [0.9, -0.4, 0.0, 0.6];
    const xtv = [0.1, 1.3, -0.8, 0.2];
    const x0 = tf.tensor4d(x0v, [1, 2, 2, 1]);
    const xt = tf.tensor4d(xtv, [1, 2, 2, 1]);
    for (const t of [1, 200, 999]) {
      const cov = Math.sqrt(alphas[t]) * (1 - ac[t - 1]);
      const varXt = 1 - ac[t];
      const post = qPosterior(new DDPMScheduler(config).schedule, x0, xt, t);
      const expected = x0v.map((x, i) => Math.sqrt(ac[t - 1]) * x + (cov / varXt) * (xtv[i] - Math.sqrt(ac[t]) * x));
      expectClose(await values(post.mean), expected, 1e-6);
      expect(post.variance).toBeCloseTo(1 - ac[t - 1] - (cov * cov) / varXt, 12);
      post.mean.dispose();
    }
    tf.dispose([x0, xt]);
  });

  it('setTimesteps(n) jumps ⌊T/n⌋ timesteps through the posterior of the jump (diffusers DDPM): variance β̃ with β = 1 − ᾱ_t/ᾱ_prev', async () => {
    const s = new DDPMScheduler({ ...config, clipSample: false });
    s.setTimesteps(10);
    expect(s.timesteps).toEqual([900, 800, 700, 600, 500, 400, 300, 200, 100, 0]);
    const ac = s.schedule.alphasCumprod;
    // the one-jump process x_500 | x_400 has ᾱ ratio ac[500]/ac[400]; its posterior variance, by Gaussian conditioning
    const varianceByConditioning = 1 - ac[400] - ((ac[500] / ac[400]) * (1 - ac[400]) ** 2) / (1 - ac[500]);
    expect(s.getVariance(500, 400)).toBeCloseTo(varianceByConditioning, 12);
    // with z = 0 the step is the conditional mean at the true x0
    const x0v = [0.5, -0.5, 0.25, 1];
    const epsv = [0.3, 1.1, -0.7, -1.4];
    const x0 = tf.tensor4d(x0v, [1, 2, 2, 1]);
    const eps = tf.tensor4d(epsv, [1, 2, 2, 1]);
    const xt = s.addNoise(x0, eps, 500);
    const xtv = await values(xt);
    const out = s.step(eps, at(500), xt, { noise: tf.zerosLike(xt) });
    const cov = Math.sqrt(ac[500] / ac[400]) * (1 - ac[400]);
    expectClose(
      await values(out.prevSample),
      x0v.map((x, i) => Math.sqrt(ac[400]) * x + (cov / (1 - ac[500])) * (xtv[i] - Math.sqrt(ac[500]) * x)),
      2e-5,
    );
    tf.dispose([x0, eps, xt, out.prevSample, out.predOriginalSample]);
  });

  it('the same seed gives the same 1000-step trajectory; another seed does not', async () => {
    const s = new DDPMScheduler(config);
    const run = async (seed: number) => {
      const rng = new GaussianRng(seed);
      let x = rng.randn([1, 4, 4, 1]);
      for (const t of s.timesteps) {
        const eps = dummyModel(x, t);
        const { prevSample, predOriginalSample } = s.step(eps, t, x, { noise: rng });
        tf.dispose([x, eps, predOriginalSample]);
        x = prevSample;
      }
      const v = await values(x);
      x.dispose();
      return v;
    };
    const a = await run(42);
    expectClose(await run(42), a, 0);
    expect(Array.from(await run(43))).not.toEqual(Array.from(a));
  });

  it('does not leak tensors over a 1000-step loop', async () => {
    const s = new DDPMScheduler(config);
    const rng = new GaussianRng(0);
    await expectNoLeak(async () => {
      let x = rng.randn([2, 4, 4, 1]);
      for (const t of s.timesteps) {
        const eps = dummyModel(x, t);
        const out = s.step(eps, t, x, { noise: rng });
        tf.dispose([x, eps, out.predOriginalSample]);
        x = out.prevSample;
      }
      await values(x);
      x.dispose();
    });
  });

  it('fails loudly on bad input', () => {
    const s = new DDPMScheduler(config);
    const x = tf.zeros([1, 2, 2, 1]);
    expect(() => s.step(x, -1 as Timestep, x)).toThrow(/timestep/);
    expect(() => s.step(x, 1.5 as Timestep, x)).toThrow(/timestep/);
    expect(() => s.step(tf.zeros([1, 3, 2, 1]), at(5), x)).toThrow(/same shape/);
    expect(() => s.step(x, at(5), x, { noise: tf.zeros([2, 2, 2, 1]) })).toThrow(/noise/);
    x.dispose();
  });
});
