import type { TrainProgress } from '../../training/session';
import type { RunState } from '../../protocol';
import { LossChart } from '../LossChart';
import { Filmstrip, type FilmFrame } from './Filmstrip';
import { duration } from './SetupForm';

interface Props {
  state: RunState;
  progress: TrainProgress | null;
  /** The step count the run aims for, before its first progress message. */
  totalSteps: number;
  losses: [number, number][];
  film: FilmFrame[];
}

/** Where loss bucket k starts: the buckets split t = 0 … T−1 evenly (as the session fills them); both counts come with the progress. */
const bucketEdge = (p: TrainProgress, k: number): number => Math.round((k * p.numTrainTimesteps) / p.bucketLoss.length);

/** Step 3 of training: progress, the loss (over steps and by timestep) and the EMA previews. */
export function ProgressView({ state, progress, totalSteps, losses, film }: Props) {
  const pct = progress ? (100 * progress.step) / progress.totalSteps : 0;
  const bucketMax = progress ? Math.max(...progress.bucketLoss.filter(Number.isFinite), 1e-9) : 1;
  return (
    <>
      <h3>3. Watch it learn</h3>
      <div className="status" data-testid="train-status" data-state={state}>
        <progress value={progress?.step ?? 0} max={progress?.totalSteps ?? totalSteps} aria-label="training progress" />
        <span data-testid="train-step">
          step {progress?.step ?? 0} / {progress?.totalSteps ?? totalSteps}
        </span>
        {progress && (
          <span>
            {pct.toFixed(0)}% · {state === 'idle' ? 'ran at ' : ''}
            {Number.isFinite(progress.imagesPerSecond) ? progress.imagesPerSecond.toFixed(1) : '…'} img/s
            {/* a run that ended (stopped, finished) has no time left to tell */}
            {state !== 'idle' && ` · ETA ${duration(progress.etaSeconds)}`}
          </span>
        )}
        {state === 'paused' && <strong>paused</strong>}
      </div>
      <div className="plots">
        <LossChart losses={losses} />
        {progress && (
          <figure className="plot">
            <div
              className="buckets"
              role="img"
              aria-label={`loss by timestep, from t = 0 (left) to t = ${progress.numTrainTimesteps} (right)`}
              data-testid="bucket-strip"
            >
              {progress.bucketLoss.map((l, k) => (
                <div
                  key={k}
                  className="bucket"
                  title={`t ∈ [${bucketEdge(progress, k)}, ${bucketEdge(progress, k + 1)}): ${Number.isFinite(l) ? l.toFixed(4) : 'no samples yet'}`}
                >
                  <div className="bar" style={{ height: `${Number.isFinite(l) ? Math.max(2, (100 * l) / bucketMax) : 0}%` }} />
                </div>
              ))}
            </div>
            <figcaption>
              loss by timestep, t = 0 → {progress.numTrainTimesteps}: nearly clean steps are the hard ones; the average hides them
            </figcaption>
          </figure>
        )}
      </div>
      {film.length > 0 && (
        <>
          <h3>Samples from the EMA weights (same noise each time)</h3>
          <Filmstrip film={film} />
        </>
      )}
    </>
  );
}
