import { displayImageStep } from '../../diffusion/timestep';
import { SAMPLER_NAMES, SAMPLERS } from '../../pipeline/defaults';
import { download, stripPng } from '../export';
import { ImageCanvas } from '../ImageCanvas';
import { meanReads } from '../Meter';
import { comparisonDone, type Frames } from './compare-samples';

/**
 * Samplers side by side, owning the panel while they run: the same noise through each, large and
 * live, with its steps, its time and what its result reads as; the bar is their mean progress.
 * Finished, their samples export as one PNG (and the memorisation check takes them all).
 */
export function CompareView({ frames, running, names }: { frames: Frames; running: boolean; names: string[] }) {
  const progress = SAMPLER_NAMES.reduce((sum, name) => sum + (frames[name] ? (frames[name].index + 1) / frames[name].total : 0), 0);
  const done = comparisonDone(frames);
  return (
    <>
      <div className="status">
        <progress max={SAMPLER_NAMES.length} value={progress} aria-label="Comparison progress" />
        <span data-testid="counter">
          {done ? 'finished: three samplers, the same noise' : 'samplers side by side, a step of each in turn'}
        </span>
      </div>
      <div className="triptych" data-testid="compare">
        {SAMPLER_NAMES.map((name) => {
          const f = frames[name];
          const probs = f?.reads ? meanReads(f.reads, f.xt.batch) : null;
          const best = probs ? probs.indexOf(Math.max(...probs)) : null;
          return (
            <figure key={name} data-testid={`compare-${name}`} data-done={f?.at === null ? 'yes' : 'no'}>
              <ImageCanvas image={f?.xt ?? null} displaySize={256} label={`${SAMPLERS[name].label} sample`} />
              <figcaption>
                <strong>{SAMPLERS[name].label}</strong>
                <br />
                {f
                  ? `step ${f.index + 1} / ${f.total} · ${f.at === null ? 'the clean image' : `t = ${displayImageStep(f.at)}`} · ${(f.ms / 1000).toFixed(1)} s`
                  : 'waiting…'}
                {probs && best !== null && (
                  <>
                    <br />
                    reads as {names[best] ?? best} ({Math.round(probs[best] * 100)} %)
                  </>
                )}
              </figcaption>
            </figure>
          );
        })}
      </div>
      <div className="controls">
        <button
          type="button"
          disabled={running || !done}
          onClick={() =>
            void stripPng(SAMPLER_NAMES.map((name) => ({ label: SAMPLERS[name].label, image: frames[name]!.xt }))).then((png) =>
              download(png, 'ddpm-samplers.png'),
            )
          }
          data-testid="export-compare"
        >
          Export PNG
        </button>
      </div>
    </>
  );
}
