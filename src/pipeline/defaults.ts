import type { SamplerName } from './sample';

/** The sampling settings the page starts with; the CLI (scripts/sample.ts) uses the same. */
export const SAMPLING_DEFAULTS = {
  /** The paper's ancestral sampler, all 1000 steps: the run the page exists to show. */
  sampler: 'ddpm' as SamplerName,
  /** DDIM steps when DDIM is chosen. */
  steps: 50,
  /** DDIM η. */
  eta: 0,
  /** Classifier-free guidance scale for the conditional model. */
  guidance: 2,
  seed: 0,
};
