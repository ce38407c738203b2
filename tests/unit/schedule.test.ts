import { describe, expect, it } from 'vitest';
import { makeSchedule, posteriorCoefficients, snr, alphaCumprodAt } from '../../src/diffusion';

const T = 1000;

describe('linear schedule (Ho et al. 2020, §4)', () => {
  const s = makeSchedule({ numTrainTimesteps: T, betaSchedule: 'linear' });

  it('β runs linearly from 1e-4 to 0.02', () => {
    expect(s.betas).toBeInstanceOf(Float64Array);
    expect(s.betas[0]).toBeCloseTo(1e-4, 15);
    expect(s.betas[T - 1]).toBeCloseTo(0.02, 15);
    for (const t of [1, 250, 500, 998]) expect(s.betas[t]).toBeCloseTo(1e-4 + ((0.02 - 1e-4) * t) / (T - 1), 15);
  });

  it('α = 1 − β and ᾱ_t = ∏ α_s (eq. 4)', () => {
    let prod = 1;
    for (let t = 0; t < T; t++) {
      expect(s.alphas[t]).toBe(1 - s.betas[t]);
      prod *= 1 - s.betas[t];
      expect(s.alphasCumprod[t]).toBeCloseTo(prod, 14);
    }
  });

  it("matches diffusers' reference ᾱ values", () => {
    expect(s.alphasCumprod[0]).toBeCloseTo(0.9999, 7);
    expect(Math.abs(s.alphasCumprod[487] - 0.0885857) / 0.0885857).toBeLessThan(1e-5);
    expect(Math.abs(s.alphasCumprod[999] - 4.0358e-5) / 4.0358e-5).toBeLessThan(1e-4);
  });

  it('the closed form ᾱ_t = exp(Σ log(1 − β_s)) agrees', () => {
    let logSum = 0;
    for (let t = 0; t < T; t++) {
      logSum += Math.log1p(-s.betas[t]);
      expect(Math.abs(s.alphasCumprod[t] - Math.exp(logSum)) / s.alphasCumprod[t]).toBeLessThan(1e-10);
    }
  });

  it('honours betaStart and betaEnd', () => {
    const c = makeSchedule({ numTrainTimesteps: 10, betaSchedule: 'linear', betaStart: 0.001, betaEnd: 0.1 });
    expect(Array.from(c.betas)).toEqual(Array.from({ length: 10 }, (_, i) => 0.001 + (0.099 * i) / 9));
  });

  it("SNR = ᾱ/(1−ᾱ) at diffusers' reference ᾱ values (t = 0, 487, 999), and decreasing", () => {
    // ᾱ_0 = 0.9999, ᾱ_487 = 0.0885857, ᾱ_999 = 4.0358e-5 (diffusers' DDPM scheduler tests)
    expect(snr(s, 0)).toBeCloseTo(0.9999 / 0.0001, 0);
    expect(snr(s, 487) / (0.0885857 / (1 - 0.0885857))).toBeCloseTo(1, 5);
    expect(snr(s, 999) / (4.0358e-5 / (1 - 4.0358e-5))).toBeCloseTo(1, 4);
    for (let t = 1; t < T; t++) expect(snr(s, t)).toBeLessThan(snr(s, t - 1));
  });
});

describe('cosine schedule (Nichol & Dhariwal 2021, eq. 17)', () => {
  const s = makeSchedule({ numTrainTimesteps: T, betaSchedule: 'cosine' });
  const f = (t: number) => Math.cos(((t / T + 0.008) / 1.008) * (Math.PI / 2)) ** 2;

  it('ᾱ_t equals f(t+1)/f(0) wherever β is not capped', () => {
    for (let t = 0; t < T - 1; t++) {
      if (s.betas[t] < 0.999) expect(Math.abs(s.alphasCumprod[t] - f(t + 1) / f(0)) / s.alphasCumprod[t]).toBeLessThan(1e-9);
    }
  });

  it('β_t = min(1 − ᾱ(t+1)/ᾱ(t), 0.999)', () => {
    for (const t of [0, 1, 500, 998, 999]) expect(s.betas[t]).toBeCloseTo(Math.min(1 - f(t + 1) / f(t), 0.999), 14);
    expect(s.betas[T - 1]).toBe(0.999);
    expect(Math.max(...s.betas)).toBeLessThanOrEqual(0.999);
  });

  it('ᾱ_0 ≈ 1 and ᾱ_{T−1} ≈ 0', () => {
    expect(s.alphasCumprod[0]).toBeGreaterThan(0.9999);
    expect(s.alphasCumprod[T - 1]).toBeLessThan(1e-6);
  });
});

describe.each(['linear', 'cosine'] as const)('%s schedule: derived coefficients', (betaSchedule) => {
  const s = makeSchedule({ numTrainTimesteps: T, betaSchedule });

  it('ᾱ is strictly decreasing in (0, 1)', () => {
    for (let t = 0; t < T; t++) {
      expect(s.alphasCumprod[t]).toBeGreaterThan(0);
      expect(s.alphasCumprod[t]).toBeLessThan(1);
      if (t > 0) expect(s.alphasCumprod[t]).toBeLessThan(s.alphasCumprod[t - 1]);
    }
  });

  it('posterior coefficients match eq. (7)', () => {
    for (const t of [1, 10, 487, 999]) {
      const c = posteriorCoefficients(s, t);
      const ac = s.alphasCumprod[t];
      const acPrev = s.alphasCumprod[t - 1];
      expect(c.x0Coef).toBeCloseTo((Math.sqrt(acPrev) * s.betas[t]) / (1 - ac), 14);
      expect(c.xtCoef).toBeCloseTo((Math.sqrt(s.alphas[t]) * (1 - acPrev)) / (1 - ac), 14);
      expect(c.variance).toBeCloseTo(((1 - acPrev) / (1 - ac)) * s.betas[t], 14);
      // β̃_t ≤ β_t: the posterior is narrower than the forward step
      expect(c.variance).toBeLessThanOrEqual(s.betas[t]);
    }
  });

  it('at t = 0 the posterior is exact: mean = x0, variance 0', () => {
    const c = posteriorCoefficients(s, 0);
    expect(c.x0Coef).toBeCloseTo(1, 12);
    expect(c.xtCoef).toBe(0);
    expect(c.variance).toBe(0);
    expect(alphaCumprodAt(s, -1)).toBe(1);
  });

  it('the posterior mean is unbiased: E[μ̃(x_t, x0) | x0] = √ᾱ_{t−1} x0', () => {
    // E[x_{t−1} | x0] = √ᾱ_{t−1} x0 must equal E[μ̃(x_t, x0) | x0] = (x0Coef + xtCoef √ᾱ_t) x0
    for (const t of [1, 100, 700, 999]) {
      const c = posteriorCoefficients(s, t);
      expect(c.x0Coef + c.xtCoef * Math.sqrt(s.alphasCumprod[t])).toBeCloseTo(Math.sqrt(s.alphasCumprod[t - 1]), 10);
    }
  });

  it('SNR decreases with t', () => {
    for (let t = 1; t < T; t++) expect(snr(s, t)).toBeLessThan(snr(s, t - 1));
  });
});

describe('bad schedule configuration fails loudly', () => {
  it('rejects a bad T, bad betas and an unknown schedule', () => {
    expect(() => makeSchedule({ numTrainTimesteps: 1, betaSchedule: 'linear' })).toThrow(/numTrainTimesteps/);
    expect(() => makeSchedule({ numTrainTimesteps: 10, betaSchedule: 'linear', betaStart: 0.5, betaEnd: 0.1 })).toThrow(/betaStart/);
    expect(() => makeSchedule({ numTrainTimesteps: 10, betaSchedule: 'sqrt' as 'linear' })).toThrow(/unknown/);
  });
});
