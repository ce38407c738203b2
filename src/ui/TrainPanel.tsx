import { useEffect, useState } from 'react';
import { DEFAULT_SETUP, defaultLearningRate, qualityStage } from '../training/recipe';
import type { StopReason, TrainProgress } from '../training/session';
import type { DataSummary, ImageBatch, ModelInfo, SavedRunInfo, TrainSetup, TrainState } from '../worker/protocol';
import type { EngineClient } from './engine-client';
import { ImageCanvas } from './ImageCanvas';
import { LossChart } from './LossChart';
import { TrainData } from './TrainData';

interface Props {
  engine: EngineClient;
  /** The model the panels run on now. */
  active: ModelInfo;
}

const MAX_FILMSTRIP = 24;

const duration = (s: number) => (!Number.isFinite(s) ? '…' : s < 90 ? `${Math.round(s)} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`);

function stopMessage(reason: StopReason): { text: string; alert: boolean } {
  switch (reason.kind) {
    case 'finished':
      return { text: 'Training finished.', alert: false };
    case 'stopped':
      return { text: 'Training stopped; the last checkpoint is saved in this browser.', alert: false };
    case 'diverged':
      return { text: `Training stopped: ${reason.message}.`, alert: true };
    case 'error':
      return { text: `Training stopped: ${reason.message}`, alert: true };
  }
}

const EXPECT_AFTER_MINUTES = [2, 5, 10];

/** What a run of this setup should give after a few minutes here: images/s and a rough quality stage. */
function Expectation({ seconds, setup }: { seconds: number; setup: TrainSetup }) {
  const imagesPerSecond = (setup.batchSize * 1000) / seconds;
  const runMinutes = (seconds * setup.totalSteps) / 1000 / 60;
  return (
    <p className="muted" data-testid="train-expectation">
      ≈ {imagesPerSecond.toFixed(imagesPerSecond < 10 ? 1 : 0)} images/s here.{' '}
      {setup.init === 'shipped'
        ? 'Fine-tuning starts from the shipped digits model, so samples are digits from the first preview on.'
        : EXPECT_AFTER_MINUTES.filter((m, i) => i === 0 || m <= runMinutes).map((m) => {
            const images = Math.min(imagesPerSecond * m * 60, setup.batchSize * setup.totalSteps);
            return (
              <span key={m}>
                After {m} min ({Math.round(images).toLocaleString()} images): {qualityStage(images)}.{' '}
              </span>
            );
          })}
    </p>
  );
}

/** Where loss bucket k starts: the buckets split t = 0 … T−1 evenly (as the session fills them). */
const bucketEdge = (p: TrainProgress, k: number): number => Math.round((k * p.numTrainTimesteps) / p.bucketLoss.length);

/** Train a diffusion model on your own pictures, in the worker, and watch it learn. */
export function TrainPanel({ engine, active }: Props) {
  const [summary, setSummary] = useState<DataSummary | null>(null);
  const [decode, setDecode] = useState<{ done: number; total: number } | null>(null);
  const [setup, setSetup] = useState<TrainSetup>(DEFAULT_SETUP);
  const [estimate, setEstimate] = useState<{ seconds: number; setup: TrainSetup } | null>(null);
  const [estimating, setEstimating] = useState(false);
  const [state, setState] = useState<TrainState>('idle');
  const [progress, setProgress] = useState<TrainProgress | null>(null);
  const [losses, setLosses] = useState<[number, number][]>([]);
  const [film, setFilm] = useState<{ step: number; images: ImageBatch }[]>([]);
  const [stopped, setStopped] = useState<StopReason | null>(null);
  const [saved, setSaved] = useState<SavedRunInfo | null>(null);
  const [hasTrained, setHasTrained] = useState(false);
  const [error, setError] = useState<string | null>(null);
  /** The person picked the model themselves: no more automatic choice. */
  const [initChosen, setInitChosen] = useState(false);

  useEffect(() => {
    const unsubscribe = engine.subscribe((m) => {
      switch (m.type) {
        case 'data':
          setSummary(m.summary);
          setDecode(null);
          return;
        case 'dataProgress':
          return setDecode({ done: m.done, total: m.total });
        case 'trainEstimate':
          setEstimating(false);
          return setEstimate({ seconds: m.secondsPer1000Steps, setup: m.setup });
        case 'trainState':
          setState(m.state);
          if (m.state === 'running') {
            setSaved(null);
            setHasTrained(true);
          }
          return;
        case 'trainProgress':
          setProgress(m.progress);
          return setLosses((l) => [...l, ...m.losses]);
        case 'trainPreview': {
          const images = { values: m.frame.images, batch: m.frame.batch, size: m.size, channels: m.channels };
          return setFilm((f) => [...f, { step: m.frame.step, images }].slice(-MAX_FILMSTRIP));
        }
        case 'trainStopped':
          return setStopped(m.reason);
        case 'savedRun':
          return setSaved(m.run);
        case 'modelFile': {
          const url = URL.createObjectURL(new Blob([m.data], { type: 'application/octet-stream' }));
          const a = Object.assign(document.createElement('a'), { href: url, download: m.name });
          a.click();
          setTimeout(() => URL.revokeObjectURL(url), 10_000);
          return;
        }
        case 'trainError':
          setEstimating(false);
          return setError(m.message);
      }
    });
    // asked, not announced at start-up: this panel mounts after the engine is ready and would miss it
    engine.send({ type: 'trainSavedQuery' });
    return unsubscribe;
  }, [engine]);

  // Pictures the shipped model fits (28×28 grey) fine-tune it by default: measured by bench:ttq, it
  // draws the new class in 91 % of samples after two minutes, where a new tiny model is at 9–11 %.
  const count = summary?.count ?? 0;
  const fineTuneOk = !summary || (summary.options.size === 28 && summary.options.channels === 1);
  const hasData = count > 0;
  useEffect(() => {
    if (initChosen || !hasData) return;
    const wanted: TrainSetup['init'] = fineTuneOk ? 'shipped' : DEFAULT_SETUP.init;
    setSetup((s) => (s.init === wanted ? s : { ...s, init: wanted, learningRate: s.learningRate === defaultLearningRate(s.init) ? defaultLearningRate(wanted) : s.learningRate }));
  }, [initChosen, hasData, fineTuneOk]);

  const set = <K extends keyof TrainSetup>(k: K, v: TrainSetup[K]) => {
    setSetup((s) => {
      const next = { ...s, [k]: v };
      // a learning rate nobody changed follows the model choice (fine-tuning wants a smaller one)
      if (k === 'init' && s.learningRate === defaultLearningRate(s.init)) next.learningRate = defaultLearningRate(next.init);
      return next;
    });
    setEstimate(null);
  };
  const begin = (resumeSaved: boolean) => {
    setError(null);
    setStopped(null);
    setFilm([]);
    setLosses([]);
    setProgress(null);
    engine.send(resumeSaved ? { type: 'trainResumeSaved' } : { type: 'trainStart', setup });
  };
  const busy = state !== 'idle';
  const stop = stopped && stopMessage(stopped);
  const pct = progress ? (100 * progress.step) / progress.totalSteps : 0;
  const bucketMax = progress ? Math.max(...progress.bucketLoss.filter(Number.isFinite), 1e-9) : 1;

  return (
    <section className="panel train" aria-labelledby="train-title">
      <h2 id="train-title">Train on your own pictures</h2>
      <p className="hint">
        Algorithm 1 of the paper, in this tab: pick a random picture x<sub>0</sub>, a random t, noise it (eq. 4) and teach the U-Net to predict the noise (L<sub>simple</sub>). Training runs in a background
        worker and is saved in this browser as it goes.
      </p>
      {saved && !busy && (
        <div className="warning" role="status" data-testid="saved-run">
          A training run from an earlier visit is saved: step {saved.step} of {saved.totalSteps}, {saved.images} images.{' '}
          <button type="button" className="primary" onClick={() => begin(true)} data-testid="train-resume-saved">
            Resume it
          </button>{' '}
          <button type="button" onClick={() => engine.send({ type: 'trainDiscardSaved' })} data-testid="train-discard-saved">
            Discard
          </button>
        </div>
      )}
      <TrainData engine={engine} summary={summary} progress={decode} locked={busy} />

      <h3>2. Model and training</h3>
      <div className="controls" role="group" aria-label="Training settings">
        <label>
          Model
          <select
            value={setup.init}
            disabled={busy}
            onChange={(e) => {
              setInitChosen(true);
              set('init', e.target.value as TrainSetup['init']);
            }}
            data-testid="train-model"
          >
            <option value="tiny">tiny (fast)</option>
            <option value="small">small (cleaner)</option>
            <option value="shipped" disabled={!fineTuneOk}>
              fine-tune the shipped digits model (28×28 grey)
            </option>
          </select>
        </label>
        <label>
          Batch
          <select value={setup.batchSize} disabled={busy} onChange={(e) => set('batchSize', Number(e.target.value))} data-testid="train-batch">
            {[4, 8, 16, 32, 64].map((b) => (
              <option key={b} value={b}>
                {b}
              </option>
            ))}
          </select>
        </label>
        <label>
          Steps
          <input type="number" min={1} max={1_000_000} value={setup.totalSteps} disabled={busy} onChange={(e) => set('totalSteps', Math.max(1, Math.round(Number(e.target.value) || 1)))} data-testid="train-steps" />
        </label>
        <label title="Adam's peak learning rate (after a short warm-up)">
          Learning rate
          <input type="number" step="any" min={0} value={setup.learningRate} disabled={busy} onChange={(e) => set('learningRate', Number(e.target.value))} data-testid="train-lr" />
        </label>
        <label>
          <input type="checkbox" checked={setup.flip} disabled={busy} onChange={(e) => set('flip', e.target.checked)} data-testid="train-flip" />
          mirror left–right
        </label>
        <label title="Sample a few pictures with the EMA weights (fast DDIM, 20 steps) every N steps">
          Preview every
          <input type="number" min={0} value={setup.previewEvery} disabled={busy} onChange={(e) => set('previewEvery', Math.max(0, Math.round(Number(e.target.value) || 0)))} data-testid="train-preview-every" />
        </label>
      </div>
      {setup.init === 'shipped' && !initChosen && (
        <p className="muted" data-testid="train-init-hint">
          Your pictures are 28×28 grey, so training starts from the shipped digits model: it learns a new kind of picture far faster than a new model does (on one digit class, 91 % of its samples are that digit after two minutes, against about 10 % from scratch). Pick tiny or small to start from scratch.
        </p>
      )}
      <div className="controls">
        <button
          type="button"
          disabled={busy || estimating}
          onClick={() => {
            setEstimating(true);
            setError(null);
            engine.send({ type: 'trainEstimate', setup });
          }}
          data-testid="train-estimate"
        >
          {estimating ? 'Measuring…' : 'Estimate time'}
        </button>
        {estimate && (
          <span data-testid="train-estimate-text">
            ≈ {duration(estimate.seconds)} per 1,000 steps on this device; {estimate.setup.totalSteps.toLocaleString()} steps ≈ {duration((estimate.seconds * estimate.setup.totalSteps) / 1000)}
          </span>
        )}
      </div>
      {estimate && <Expectation seconds={estimate.seconds} setup={estimate.setup} />}
      <div className="controls">
        <button type="button" className="primary" disabled={busy || count === 0} onClick={() => begin(false)} data-testid="train-start">
          Start training
        </button>
        <button type="button" disabled={state !== 'running'} onClick={() => engine.send({ type: 'trainPause' })} data-testid="train-pause">
          Pause
        </button>
        <button type="button" disabled={state !== 'paused'} onClick={() => engine.send({ type: 'trainResume' })} data-testid="train-resume">
          Resume
        </button>
        <button type="button" disabled={!busy} onClick={() => engine.send({ type: 'trainStop' })} data-testid="train-stop">
          Stop
        </button>
      </div>
      {error && (
        <p role="alert" className="error" data-testid="train-error">
          {error}
        </p>
      )}
      {stop && (
        <p role={stop.alert ? 'alert' : 'status'} className={stop.alert ? 'error' : 'muted'} data-testid="train-stopped">
          {stop.text}
        </p>
      )}

      {(progress || busy) && (
        <>
          <h3>3. Watch it learn</h3>
          <div className="status" data-testid="train-status" data-state={state}>
            <progress value={progress?.step ?? 0} max={progress?.totalSteps ?? setup.totalSteps} aria-label="training progress" />
            <span data-testid="train-step">
              step {progress?.step ?? 0} / {progress?.totalSteps ?? setup.totalSteps}
            </span>
            {progress && (
              <span>
                {pct.toFixed(0)}% · {Number.isFinite(progress.imagesPerSecond) ? progress.imagesPerSecond.toFixed(1) : '…'} img/s · ETA {duration(progress.etaSeconds)}
              </span>
            )}
            {state === 'paused' && <strong>paused</strong>}
          </div>
          <div className="plots">
            <LossChart losses={losses} />
            {progress && (
              <figure className="plot">
                <div className="buckets" role="img" aria-label={`loss by timestep, from t = 0 (left) to t = ${progress.numTrainTimesteps} (right)`} data-testid="bucket-strip">
                  {progress.bucketLoss.map((l, k) => (
                    <div key={k} className="bucket" title={`t ∈ [${bucketEdge(progress, k)}, ${bucketEdge(progress, k + 1)}): ${Number.isFinite(l) ? l.toFixed(4) : 'no samples yet'}`}>
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
              <ol className="filmstrip" data-testid="filmstrip">
                {film.map((f) => (
                  <li key={f.step}>
                    <ImageCanvas image={f.images} displaySize={96} label={`samples at step ${f.step}`} />
                    <span>step {f.step}</span>
                  </li>
                ))}
              </ol>
            </>
          )}
        </>
      )}

      <h3>4. Use, keep or bring a model</h3>
      <p className="muted" data-testid="active-model">
        The panels above run on {active.source === 'trained' ? 'the model trained here' : active.source === 'imported' ? 'an imported model' : 'the shipped digits model'} ({active.config.imageSize}×{active.config.imageSize}
        {active.config.inChannels === 3 ? ' RGB' : ' grey'}, {(active.numParams / 1e6).toFixed(2)}M parameters).
      </p>
      <div className="controls">
        <button type="button" className="primary" disabled={!hasTrained} onClick={() => engine.send({ type: 'useModel', which: 'trained' })} data-testid="use-trained">
          Use this model
        </button>
        <button type="button" disabled={active.source === 'shipped' || active.source === 'random'} onClick={() => engine.send({ type: 'useModel', which: 'shipped' })} data-testid="use-shipped">
          Back to the shipped model
        </button>
        <button type="button" disabled={!hasTrained} onClick={() => engine.send({ type: 'exportModel' })} data-testid="export-model">
          Export model (.ddpm)
        </button>
        <label className="upload">
          Import model…
          <input
            type="file"
            multiple
            accept=".ddpm,.json,.bin"
            onChange={(e) => {
              const files = Array.from(e.target.files ?? []);
              e.target.value = '';
              setError(null);
              if (files.length) engine.send({ type: 'importModel', files });
            }}
            data-testid="import-model"
          />
        </label>
      </div>
    </section>
  );
}
