/**
 * Noise schedules and every per-timestep coefficient of the forward and reverse process.
 * Pure math: no tensors. Computed once in float64 (lucidrains' rule); consumers cast to float32.
 * Timesteps are 0-based: index t = 0 … T−1 is the paper's step t+1.
 */

export type BetaSchedule = 'linear' | 'scaled_linear' | 'cosine';

export interface ScheduleConfig {
  /** T, the number of diffusion steps the model was trained with (the paper uses 1000). */
  numTrainTimesteps: number;
  /**
   * 'linear' (Ho et al. 2020, §4), 'scaled_linear' (linear in √β: diffusers' name, latent diffusion's
   * schedule) or 'cosine' (Nichol & Dhariwal 2021, eq. 17; diffusers' 'squaredcos_cap_v2').
   */
  betaSchedule: BetaSchedule;
  /** β_1 of the linear schedule (default LINEAR_BETA_START, the paper's). */
  betaStart?: number;
  /** β_T of the linear schedule (default LINEAR_BETA_END, the paper's). */
  betaEnd?: number;
}

/** The paper's linear schedule: β_1 = 10⁻⁴ … β_T = 0.02 (Ho et al. 2020, §4), the default of every linear schedule here. */
export const LINEAR_BETA_START = 1e-4;
export const LINEAR_BETA_END = 0.02;

export interface Schedule {
  numTrainTimesteps: number;
  /** β_t, the forward-process variances. */
  betas: Float64Array;
  /** α_t = 1 − β_t. */
  alphas: Float64Array;
  /** ᾱ_t = ∏_{s≤t} α_s (eq. 4). */
  alphasCumprod: Float64Array;
}

/** Cosine schedule offset s and β cap from Nichol & Dhariwal 2021 (§3.2). */
const COSINE_S = 0.008;
const MAX_BETA = 0.999;

export function makeSchedule(config: ScheduleConfig): Schedule {
  const T = config.numTrainTimesteps;
  if (!Number.isInteger(T) || T < 2) throw new RangeError(`numTrainTimesteps must be an integer ≥ 2, got ${T}`);
  const betas = new Float64Array(T);
  if (config.betaSchedule === 'linear' || config.betaSchedule === 'scaled_linear') {
    const start = config.betaStart ?? LINEAR_BETA_START;
    const end = config.betaEnd ?? LINEAR_BETA_END;
    if (!(start > 0 && end < 1 && start <= end)) throw new RangeError(`need 0 < betaStart ≤ betaEnd < 1, got ${start}, ${end}`);
    if (config.betaSchedule === 'linear') for (let t = 0; t < T; t++) betas[t] = start + ((end - start) * t) / (T - 1);
    else for (let t = 0; t < T; t++) betas[t] = (Math.sqrt(start) + ((Math.sqrt(end) - Math.sqrt(start)) * t) / (T - 1)) ** 2;
  } else if (config.betaSchedule === 'cosine') {
    // ᾱ(t) = f(t)/f(0), f(t) = cos²(((t/T + s)/(1 + s))·π/2); β_t = 1 − ᾱ(t+1)/ᾱ(t), capped at 0.999.
    const f = (t: number) => Math.cos(((t / T + COSINE_S) / (1 + COSINE_S)) * (Math.PI / 2)) ** 2;
    for (let t = 0; t < T; t++) betas[t] = Math.min(1 - f(t + 1) / f(t), MAX_BETA);
  } else {
    throw new RangeError(`unknown betaSchedule '${String(config.betaSchedule)}'`);
  }
  const alphas = betas.map((b) => 1 - b);
  const alphasCumprod = new Float64Array(T);
  let prod = 1;
  for (let t = 0; t < T; t++) alphasCumprod[t] = prod *= alphas[t];
  return { numTrainTimesteps: T, betas, alphas, alphasCumprod };
}

/** ᾱ at a 0-based timestep, with ᾱ_{−1} = 1 (no noise before the first step). */
export function alphaCumprodAt(schedule: Schedule, t: number): number {
  return t >= 0 ? schedule.alphasCumprod[t] : 1;
}

/**
 * Coefficients of the true posterior q(x_prev | x_t, x_0) = N(μ̃_t, β̃_t I), eq. (6)–(7), where prev is
 * t − 1 (the paper) or any earlier timestep (a shorter run: β_t becomes 1 − ᾱ_t / ᾱ_prev, the β of
 * the one jump from prev to t, as in diffusers' DDPMScheduler):
 *   μ̃_t = [√ᾱ_prev β_t / (1 − ᾱ_t)] x_0 + [√(1 − β_t) (1 − ᾱ_prev) / (1 − ᾱ_t)] x_t
 *   β̃_t = (1 − ᾱ_prev) / (1 − ᾱ_t) · β_t
 */
export function posteriorCoefficients(schedule: Schedule, t: number, prevT = t - 1) {
  const acT = alphaCumprodAt(schedule, t);
  const acPrev = alphaCumprodAt(schedule, prevT);
  const beta = prevT === t - 1 ? schedule.betas[t] : 1 - acT / acPrev;
  return {
    x0Coef: (Math.sqrt(acPrev) * beta) / (1 - acT),
    xtCoef: (Math.sqrt(1 - beta) * (1 - acPrev)) / (1 - acT),
    variance: ((1 - acPrev) / (1 - acT)) * beta,
    beta,
  };
}

/** Signal-to-noise ratio ᾱ_t / (1 − ᾱ_t) of x_t (Kingma et al. 2021). */
export function snr(schedule: Schedule, t: number): number {
  const ac = schedule.alphasCumprod[t];
  return ac / (1 - ac);
}
