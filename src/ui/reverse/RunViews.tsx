import { displayImageStep, displayStep } from '../../diffusion/timestep';
import type { SampleFrame } from '../../protocol';
import { download, stripPng, trajectoryGif, type LabelledImage } from '../export';
import { ImageCanvas } from '../ImageCanvas';
import { Meter } from '../Meter';
import type { RunView, StripCell } from './use-sampling-run';

/**
 * The run's progress: bar, the step shown (the timestep denoised → the one its image is at, 0 for the
 * finished sample), step count, steps/s, and "Back to live" while a strip step is shown.
 */
export function RunStatus({
  shown,
  total,
  firstT,
  stats,
  onLive,
}: {
  shown: SampleFrame | null;
  total: number;
  /** The first timestep of the chosen run, shown before it starts. */
  firstT: number;
  stats: string;
  onLive: (() => void) | null;
}) {
  return (
    <div className="status" aria-live="off">
      <progress max={total} value={shown ? shown.index + 1 : 0} aria-label="Denoising progress" />
      <span data-testid="counter">{shown ? stepText(shown) : `t = ${firstT}`}</span>
      <span data-testid="step-count">{shown ? `step ${shown.index + 1} / ${shown.total}` : `${total} steps`}</span>
      <span className="muted rate" data-testid="rate">
        {stats}
      </span>
      {onLive && (
        <button type="button" onClick={onLive}>
          Back to live
        </button>
      )}
    </div>
  );
}

/** "t = 951 → 901": the step a frame denoised and the step its image is at; the last one ends on the clean image. */
export function stepText(f: { t: SampleFrame['t']; at: SampleFrame['at'] }): string {
  return `t = ${displayStep(f.t)} → ${f.at === null ? '0 (clean)' : displayImageStep(f.at)}`;
}

/** x_t, ε̂ and x̂0 large, with the meter under x̂0 when the model is one it reads. */
export function Triptych({
  shown,
  label,
  names,
  meter,
}: {
  shown: SampleFrame | null;
  label: number | null;
  names: string[];
  meter: RunView['meter'];
}) {
  return (
    <div className="triptych">
      <figure>
        <ImageCanvas image={shown?.xt ?? null} displaySize={256} label="current sample x_t" testId="xt" />
        <figcaption>
          x<sub>t</sub> — the sample
        </figcaption>
      </figure>
      <figure>
        <ImageCanvas image={shown?.predNoise ?? null} range="noise" displaySize={256} label="predicted noise" testId="eps" />
        <figcaption>
          ε̂ — the noise the network predicts in x<sub>t</sub>
        </figcaption>
      </figure>
      <figure>
        <ImageCanvas image={shown?.predOriginal ?? null} displaySize={256} label="predicted clean image" testId="x0" />
        <figcaption>
          x̂<sub>0</sub> — its guess of the final image
        </figcaption>
        {shown?.reads && <Meter reads={shown.reads} batch={shown.xt.batch} label={label} names={names} history={meter} />}
      </figure>
    </div>
  );
}

/**
 * The trajectory strip — the image the run started from, then the steps it visited, each labelled with
 * the step its image is at, down to the clean image (t=0); click a step to see it large — and the
 * run's exports: an animated GIF and a PNG strip.
 */
export function Trajectory({
  strip,
  recorded,
  running,
  onSelect,
}: {
  strip: StripCell[];
  recorded: readonly LabelledImage[];
  running: boolean;
  onSelect: (f: SampleFrame) => void;
}) {
  return (
    <>
      <h3>Trajectory</h3>
      <ol className="strip" data-testid="strip">
        {strip.map(({ step, image, frame }) => (
          <li key={frame ? frame.index : 'start'}>
            <ImageCanvas
              image={image}
              displaySize={64}
              label={frame ? `step t = ${step}` : `the start, t = ${step}`}
              onClick={frame ? () => onSelect(frame) : undefined}
            />
            <span>t={step}</span>
          </li>
        ))}
      </ol>
      <div className="controls">
        <button
          type="button"
          disabled={running || recorded.length === 0}
          onClick={() => download(trajectoryGif(recorded), 'ddpm-trajectory.gif')}
          data-testid="export-gif"
        >
          Export GIF
        </button>
        <button
          type="button"
          disabled={running || strip.length === 0}
          onClick={() =>
            void stripPng(strip.map(({ step, image }) => ({ label: `t=${step}`, image }))).then((png) => download(png, 'ddpm-strip.png'))
          }
          data-testid="export-png"
        >
          Export PNG strip
        </button>
      </div>
    </>
  );
}
