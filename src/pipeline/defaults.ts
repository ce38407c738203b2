import { leadingTimesteps, linspaceTimesteps, type Timestep } from '../diffusion/timestep';
import type { ModelMetadata } from '../model/metadata';

/** The samplers the page and the CLIs offer, and the settings the page starts with. No tfjs here: the UI reads it. */
export type SamplerName = 'ddpm' | 'ddim' | 'dpm-solver++';

export interface SamplerInfo {
  /** What the page's menu says. */
  label: string;
  /** Steps a run takes unless told otherwise; null: every train timestep (the paper's Algorithm 2). */
  defaultSteps: number | null;
  /** Whether DDIM's η (the amount of fresh noise per step) applies. */
  eta: boolean;
  /**
   * Which train timesteps a run of n steps visits, for the page (which has no schedulers): the
   * scheduler's setTimesteps uses the same function, and the scheduler contract test holds them equal.
   */
  spacing: (numTrainTimesteps: number, numInferenceSteps: number) => Timestep[];
}

export const SAMPLERS: Record<SamplerName, SamplerInfo> = {
  ddpm: { label: 'DDPM', defaultSteps: null, eta: false, spacing: leadingTimesteps },
  ddim: { label: 'DDIM', defaultSteps: 50, eta: true, spacing: leadingTimesteps },
  'dpm-solver++': { label: 'DPM-Solver++ (2M)', defaultSteps: 20, eta: false, spacing: linspaceTimesteps },
};

export const SAMPLER_NAMES = Object.keys(SAMPLERS) as SamplerName[];

/** The steps a run of `sampler` takes: `steps` for a few-step sampler (its default when absent), all T for DDPM. */
export function runSteps(sampler: SamplerName, steps: number | undefined, numTrainTimesteps: number): number {
  return SAMPLERS[sampler].defaultSteps === null ? numTrainTimesteps : (steps ?? SAMPLERS[sampler].defaultSteps);
}

/** The sampling settings the page starts with; the CLI (scripts/sample.ts) uses the same. */
export const SAMPLING_DEFAULTS = {
  /** The paper's ancestral sampler, all 1000 steps: the run the page exists to show. */
  sampler: 'ddpm' as SamplerName,
  /** Steps when a few-step sampler (DDIM, DPM-Solver++) is chosen. */
  steps: 50,
  /** DDIM η. */
  eta: 0,
  /**
   * Classifier-free guidance scale for the conditional model (two network passes per step). 1.5
   * measured best for the shipped model: 99.4 % of 1,000 samples read as asked for DDIM-50 and
   * DPM-Solver++-20 (94.4 % and 94.5 % at s = 1), with the lowest Fréchet distance of a sweep over
   * s = 1, 1.5, 2, 3; s ≥ 2 gains no accuracy and loses diversity (docs/quality.md).
   */
  guidance: 1.5,
  seed: 0,
};

/**
 * The guidance the page samples a model at: its metadata's own (the emoji model's playground.json:
 * 3.5, kept by its fine-tunes), else the page's default. The CLIs that judge a model at the page's
 * setting (eval:emoji, bench:ttq) ask here.
 */
export function pageGuidance(metadata: ModelMetadata): number {
  return metadata.sampling?.guidance ?? SAMPLING_DEFAULTS.guidance;
}
