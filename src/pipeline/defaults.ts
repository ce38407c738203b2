import type { SamplerName } from './sample';

/** The sampling settings the page starts with; the CLI (scripts/sample.ts) uses the same. */
export const SAMPLING_DEFAULTS = {
  /** The paper's ancestral sampler, all 1000 steps: the run the page exists to show. */
  sampler: 'ddpm' as SamplerName,
  /** DDIM steps when DDIM is chosen. */
  steps: 50,
  /** DDIM η. */
  eta: 0,
  /**
   * Classifier-free guidance scale for the conditional model. 1 (plain conditional, one network pass
   * per step) measured best for the shipped model: its "no label" branch is weak, and s > 1 drove
   * 50-step DDIM off the digit manifold (README, quality report).
   */
  guidance: 1,
  seed: 0,
};
