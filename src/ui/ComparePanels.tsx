import { displayStep } from '../diffusion/timestep';
import { SAMPLER_NAMES, SAMPLERS, type SamplerName } from '../pipeline/defaults';
import type { CompareFrame } from '../protocol';
import { ImageCanvas } from './ImageCanvas';
import { meanReads } from './Meter';

interface Props {
  frames: Partial<Record<SamplerName, CompareFrame>>;
}

/** Samplers side by side: the same noise through each, with its steps, its time and what the result reads as. */
export function ComparePanels({ frames }: Props) {
  return (
    <div className="compare" data-testid="compare">
      {SAMPLER_NAMES.map((name) => {
        const f = frames[name];
        const probs = f?.reads ? meanReads(f.reads, f.xt.batch) : null;
        const best = probs ? probs.indexOf(Math.max(...probs)) : null;
        return (
          <figure key={name} data-testid={`compare-${name}`} data-done={f && f.index === f.total - 1 ? 'yes' : 'no'}>
            <ImageCanvas image={f?.xt ?? null} displaySize={128} label={`${SAMPLERS[name].label} sample`} />
            <figcaption>
              <strong>{SAMPLERS[name].label}</strong>
              <br />
              {f ? `step ${f.index + 1} / ${f.total} · t = ${displayStep(f.t)} · ${(f.ms / 1000).toFixed(1)} s` : 'waiting…'}
              {probs && best !== null && (
                <>
                  <br />
                  reads as {best} ({Math.round(probs[best] * 100)} %)
                </>
              )}
            </figcaption>
          </figure>
        );
      })}
    </div>
  );
}
