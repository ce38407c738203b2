import type { SamplerName } from '../src/pipeline/defaults';
import { UsageError } from './args';

/** What `npm run eval` generates: sampler settings × guidance scales, parsed from its command line. */

export interface Setting {
  /** e.g. 'ddpm-g2', 'ddim50-g2', 'ddim50-eta1-g3', 'dpm20-g1' (also the grid's file name). */
  name: string;
  sampler: SamplerName;
  steps: number;
  eta: number;
  guidance: number;
}

/**
 * 'ddpm' (every train timestep), 'ddim<K>[-eta<E>]' (K steps, η = E, default 0) or 'dpm<K>'
 * (DPM-Solver++(2M), K steps), each with every guidance scale.
 */
export function parseSettings(specs: string, guidances: string, trainSteps: number): Setting[] {
  const scales = guidances.split(',').map((g) => {
    const w = Number(g);
    if (g.trim() === '' || !Number.isFinite(w) || w < 0 || w > 50)
      throw new UsageError(`--guidance must be a comma list of numbers in [0, 50]; got '${g}'`);
    return w;
  });
  return specs.split(',').flatMap((spec) => {
    const ddim = /^ddim(\d+)(?:-eta([0-9.]+))?$/.exec(spec);
    const dpm = /^dpm(\d+)$/.exec(spec);
    if (spec !== 'ddpm' && !ddim && !dpm)
      throw new UsageError(
        `--settings entries are 'ddpm', 'ddim<steps>[-eta<η>]' or 'dpm<steps>' (e.g. ddim50, ddim50-eta1, dpm20); got '${spec}'`,
      );
    const sampler: SamplerName = ddim ? 'ddim' : dpm ? 'dpm-solver++' : 'ddpm';
    const steps = ddim ? Number(ddim[1]) : dpm ? Number(dpm[1]) : trainSteps;
    const eta = ddim?.[2] === undefined ? 0 : Number(ddim[2]);
    if (steps < 1 || steps > trainSteps) throw new UsageError(`'${spec}': steps must be in [1, ${trainSteps}]`);
    if (!(eta >= 0 && eta <= 1)) throw new UsageError(`'${spec}': η must be in [0, 1]`);
    return scales.map((guidance) => ({ name: `${spec}-g${guidance}`, sampler, steps, eta, guidance }));
  });
}
