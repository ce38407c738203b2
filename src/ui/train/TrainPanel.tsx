import { lazy, Suspense, useEffect, useState } from 'react';
import type { EngineClient } from '../engine-client';
import { KEEP_EVERY_MS } from '../../protocol/training';
import { stopMessage } from './stop-message';
import { Expectation, SetupForm, duration, useTrainSetup } from './SetupForm';
import { TrainData } from './TrainData';
import { useTraining } from './use-training';

/** The run's progress, loss and previews load when a run starts (or a saved one is resumed). */
const ProgressView = lazy(() => import('./ProgressView').then((m) => ({ default: m.ProgressView })));

/** Train a diffusion model on your own pictures, in the worker, and watch it learn. */
export function TrainPanel({ engine }: { engine: EngineClient }) {
  const { view, send, clearEstimate } = useTraining(engine);
  const form = useTrainSetup(view.summary, clearEstimate);
  const { setup } = form;
  const { state, saved, estimate, estimating, error, progress } = view;
  // a run saved by an earlier visit brings its form back
  const { load } = form;
  useEffect(() => {
    if (saved?.setup) load(saved.setup);
  }, [saved, load]);
  const busy = state !== 'idle';
  const stop = view.stopped && stopMessage(view.stopped);
  /** Start was pressed while a trained model is saved: a new run would replace it, so the page asks first. */
  const [confirming, setConfirming] = useState(false);
  const start = () => {
    setConfirming(false);
    send({ type: 'start', setup });
  };

  return (
    <section className="panel train" aria-labelledby="train-title">
      <h2 id="train-title">Train on your own pictures</h2>
      <p className="hint">
        Algorithm 1 of the paper, in this tab: pick a random picture x<sub>0</sub>, a random t, noise it (eq. 4) and teach the U-Net to
        predict the noise (L<sub>simple</sub>). Training runs in a background worker and is saved in this browser as it goes.
      </p>
      {saved && !busy && (
        <div className="warning" role="status" data-testid="saved-run">
          {saved.finished ? (
            <>
              A trained model is saved in this browser: {saved.step} steps on {saved.images} images. Use or export it with the buttons above
              the panels.{' '}
            </>
          ) : (
            <>
              A training run is saved in this browser: step {saved.step} of {saved.totalSteps}, {saved.images} images (a paused or stopped
              run is saved at its very step; one still training when the page closed, from its last checkpoint, at most{' '}
              {KEEP_EVERY_MS / 1000} s of training back).{' '}
              <button type="button" className="primary" onClick={() => send({ type: 'resumeSaved' })} data-testid="train-resume-saved">
                Resume it
              </button>{' '}
            </>
          )}
          <button type="button" onClick={() => send({ type: 'discardSaved' })} data-testid="train-discard-saved">
            Discard
          </button>
        </div>
      )}
      <TrainData send={send} summary={view.summary} progress={view.decode} locked={busy} error={view.error} />
      <SetupForm form={form} busy={busy} />
      <div className="controls">
        <button
          type="button"
          disabled={busy || estimating !== null || !form.fields.valid}
          onClick={() => send({ type: 'estimate', setup })}
          data-testid="train-estimate"
        >
          {estimating ? `Measuring… ${estimating.total ? `step ${estimating.done} of ${estimating.total}` : ''}` : 'Estimate time'}
        </button>
        {estimating && (
          <button type="button" onClick={() => send({ type: 'cancelEstimate' })} data-testid="train-estimate-cancel">
            Cancel
          </button>
        )}
        {estimate && (
          <span data-testid="train-estimate-text">
            ≈ {duration(estimate.seconds)} per 1,000 steps on this device; {estimate.setup.totalSteps.toLocaleString()} steps ≈{' '}
            {duration((estimate.seconds * estimate.setup.totalSteps) / 1000)}
          </span>
        )}
      </div>
      {estimate && <Expectation seconds={estimate.seconds} setup={estimate.setup} channels={view.summary?.options.channels ?? 1} />}
      <div className="controls">
        <button
          type="button"
          className="primary"
          disabled={busy || !view.summary?.count || !form.fields.valid}
          onClick={() => (saved ? setConfirming(true) : start())}
          data-testid="train-start"
        >
          Start training
        </button>
        <button type="button" disabled={state !== 'running'} onClick={() => send({ type: 'pause' })} data-testid="train-pause">
          Pause
        </button>
        <button type="button" disabled={state !== 'paused'} onClick={() => send({ type: 'resume' })} data-testid="train-resume">
          Resume
        </button>
        <button type="button" disabled={!busy} onClick={() => send({ type: 'stop' })} data-testid="train-stop">
          Stop
        </button>
      </div>
      {confirming && saved && !busy && (
        <div className="warning" role="alertdialog" aria-label="Replace the saved model?" data-testid="train-replace">
          A new run replaces the {saved.finished ? 'model trained' : 'run saved'} so far ({saved.step} steps on {saved.images} images) once
          it saves its first checkpoint.{' '}
          <button
            type="button"
            onClick={() => engine.send({ channel: 'models', type: 'export', format: 'ddpm' })}
            data-testid="train-replace-export"
          >
            Export it first
          </button>{' '}
          {!saved.finished && (
            <>
              <button
                type="button"
                onClick={() => {
                  setConfirming(false);
                  send({ type: 'resumeSaved' });
                }}
                data-testid="train-replace-resume"
              >
                Resume it instead
              </button>{' '}
            </>
          )}
          <button type="button" className="primary" onClick={start} data-testid="train-replace-confirm">
            Start the new run
          </button>{' '}
          <button type="button" onClick={() => setConfirming(false)} data-testid="train-replace-cancel">
            Cancel
          </button>
        </div>
      )}
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
        <Suspense fallback={null}>
          <ProgressView state={state} progress={progress} totalSteps={setup.totalSteps} losses={view.losses} film={view.film} />
        </Suspense>
      )}
    </section>
  );
}
