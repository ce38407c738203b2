import { useCallback, useEffect, useState } from 'react';
import {
  DEFAULT_SETUP,
  defaultLearningRate,
  MAX_LEARNING_RATE,
  MIN_LEARNING_RATE,
  priorFor,
  PRIORS,
  qualityStage,
} from '../../training/recipe';
import { NumberField, useFieldValidity } from '../NumberField';
import type { DataSummary, TrainSetup } from '../../protocol';

/** What a learning rate's default depends on: the model chosen and the pictures' prior. */
type RateFor = Parameters<typeof defaultLearningRate>;

/**
 * A learning rate nobody changed (the default for what it was set for) follows to the default of
 * the new model or prior: fine-tuning wants a smaller one, and each shipped model its own (PRIORS).
 * One the person chose stays.
 */
const followingRate = (rate: number, from: RateFor, to: RateFor) =>
  rate === defaultLearningRate(...from) ? defaultLearningRate(...to) : rate;

export const duration = (s: number) =>
  !Number.isFinite(s) ? '…' : s < 90 ? `${Math.round(s)} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`;

/** The setup being edited, with the model chosen for the person until they choose one themselves. */
export function useTrainSetup(summary: DataSummary | null, onChange: () => void) {
  const [setup, setSetup] = useState<TrainSetup>(DEFAULT_SETUP);
  /** The person picked the model themselves: no more automatic choice. */
  const [initChosen, setInitChosen] = useState(false);

  // Pictures a shipped model fits (28×28 grey: the digits model; 32×32 colour: the emoji model)
  // fine-tune it by default: measured by bench:ttq, both reach a recognisable result far sooner than
  // a new model (docs/quality.md, docs/colour.md). Captions train a text model: the shipped ones take class labels.
  const prior = summary && !summary.captions ? priorFor(summary.options.size, summary.options.channels) : null;
  const fineTuneOk = !summary || prior !== null;
  const hasData = (summary?.count ?? 0) > 0;
  // a new data set (the last one cleared) gets the model chosen for it again
  const [hadData, setHadData] = useState(hasData);
  if (hadData !== hasData) {
    setHadData(hasData);
    if (!hasData) setInitChosen(false);
  }
  // the learning rate follows the pictures' prior as well as the model choice (grey digits → colour)
  const [ratePrior, setRatePrior] = useState(prior);
  if (ratePrior !== prior) {
    setRatePrior(prior);
    setSetup((s) => ({ ...s, learningRate: followingRate(s.learningRate, [s.init, ratePrior], [s.init, prior]) }));
  }
  useEffect(() => {
    if (initChosen || !hasData) return;
    const wanted: TrainSetup['init'] = fineTuneOk ? 'shipped' : DEFAULT_SETUP.init;
    setSetup((s) =>
      s.init === wanted
        ? s
        : {
            ...s,
            init: wanted,
            learningRate: followingRate(s.learningRate, [s.init, prior], [wanted, prior]),
          },
    );
  }, [initChosen, hasData, fineTuneOk, prior]);

  const set = <K extends keyof TrainSetup>(k: K, v: TrainSetup[K]) => {
    setSetup((s) => {
      const next = { ...s, [k]: v };
      if (k === 'init') next.learningRate = followingRate(s.learningRate, [s.init, prior], [next.init, prior]);
      return next;
    });
    onChange();
  };
  const chooseInit = (init: TrainSetup['init']) => {
    setInitChosen(true);
    set('init', init);
  };
  const fields = useFieldValidity();
  /** The form of a saved run, shown again with it (and no longer chosen for the person). */
  const load = useCallback((saved: TrainSetup) => {
    setSetup(saved);
    setInitChosen(true);
  }, []);
  return { setup, set, chooseInit, initChosen, fineTuneOk, prior, fields, load };
}

const EXPECT_AFTER_MINUTES = [2, 5, 10];

/** What fine-tuning the emoji model gives, as bench:ttq measured it on 343 emoji it never saw (docs/colour.md). */
const EMOJI_FINE_TUNE_NOTE =
  'on emoji it had not seen, after two minutes 76.6 % of its samples read as their category, where a new model drew colour noise (12.5 %).';

/**
 * What a run of this setup should give after a few minutes here: images/s, and the quality stage a
 * new model reaches, as bench:ttq measured it on pictures like these (grey: digits; colour: emoji).
 */
export function Expectation({ seconds, setup, channels }: { seconds: number; setup: TrainSetup; channels: number }) {
  const colour = channels === 3;
  const imagesPerSecond = (setup.batchSize * 1000) / seconds;
  const runMinutes = (seconds * setup.totalSteps) / 1000 / 60;
  return (
    <p className="muted" data-testid="train-expectation">
      ≈ {imagesPerSecond.toFixed(imagesPerSecond < 10 ? 1 : 0)} images/s here.{' '}
      {setup.init === 'shipped'
        ? colour
          ? `Fine-tuning starts from ${PRIORS.emoji.name}, so samples are emoji-like shapes on black from the first preview on.`
          : `Fine-tuning starts from ${PRIORS.digits.name}, so samples are digits from the first preview on.`
        : EXPECT_AFTER_MINUTES.filter((m, i) => i === 0 || m <= runMinutes).map((m) => {
            const images = Math.min(imagesPerSecond * m * 60, setup.batchSize * setup.totalSteps);
            return (
              <span key={m}>
                After {m} min: {Math.round(images).toLocaleString()} images — {qualityStage(images, channels)}.{' '}
              </span>
            );
          })}
      {setup.init !== 'shipped' && (
        <span className="note">A rough guide from {colour ? 'emoji' : 'digit'} pictures, not a promise for every data set.</span>
      )}
    </p>
  );
}

interface Props {
  form: ReturnType<typeof useTrainSetup>;
  busy: boolean;
}

/** Step 2 of training: which model, how long, how fast. */
export function SetupForm({ form, busy }: Props) {
  const { setup, set, chooseInit, initChosen, fineTuneOk, prior, fields } = form;
  return (
    <>
      <h3>2. Model and training</h3>
      <div className="controls" role="group" aria-label="Training settings">
        <label>
          Model
          <select
            value={setup.init}
            disabled={busy}
            onChange={(e) => chooseInit(e.target.value as TrainSetup['init'])}
            data-testid="train-model"
          >
            <option value="tiny">tiny (fast)</option>
            <option value="small">small (cleaner)</option>
            <option
              value="shipped"
              disabled={!fineTuneOk}
              title="a shipped model: the digits model for 28×28 grey pictures, the emoji model for 32×32 colour ones (without captions)"
            >
              fine-tune {prior ? PRIORS[prior].name : 'a shipped model'}
            </option>
          </select>
        </label>
        <label>
          Batch
          <select
            value={setup.batchSize}
            disabled={busy}
            onChange={(e) => set('batchSize', Number(e.target.value))}
            data-testid="train-batch"
          >
            {[4, 8, 16, 32, 64].map((b) => (
              <option key={b} value={b}>
                {b}
              </option>
            ))}
          </select>
        </label>
        <label>
          Steps
          <NumberField
            value={setup.totalSteps}
            min={1}
            max={1_000_000}
            integer
            disabled={busy}
            onCommit={(v) => set('totalSteps', v)}
            onValidity={fields.onValidity('steps')}
            testId="train-steps"
          />
        </label>
        <label title="Adam's peak learning rate (after a short warm-up)">
          Learning rate
          <NumberField
            value={setup.learningRate}
            min={MIN_LEARNING_RATE}
            max={MAX_LEARNING_RATE}
            reason={{ low: 'lower rates barely move the weights in a session', high: 'higher rates make this training diverge' }}
            disabled={busy}
            onCommit={(v) => set('learningRate', v)}
            onValidity={fields.onValidity('lr')}
            testId="train-lr"
          />
        </label>
        <label>
          <input
            type="checkbox"
            checked={setup.flip}
            disabled={busy}
            onChange={(e) => set('flip', e.target.checked)}
            data-testid="train-flip"
          />
          mirror left–right
        </label>
        <label title="Sample a few pictures with the EMA weights (fast DDIM, 20 steps) every N steps">
          Preview every
          <NumberField
            value={setup.previewEvery}
            min={0}
            max={1_000_000}
            integer
            disabled={busy}
            onCommit={(v) => set('previewEvery', v)}
            onValidity={fields.onValidity('preview')}
            testId="train-preview-every"
          />
        </label>
      </div>
      {setup.init === 'shipped' && !initChosen && prior && (
        <p className="muted" data-testid="train-init-hint">
          {prior === 'digits'
            ? 'Your pictures are 28×28 grey, so training starts from the shipped digits model: it learns a new kind of picture far faster than a new model does (on one digit class, 91 % of its samples are that digit after two minutes, against about 10 % from scratch).'
            : `Your pictures are 32×32 colour, so training starts from the shipped emoji model: ${EMOJI_FINE_TUNE_NOTE}`}{' '}
          Pick tiny or small to start from scratch.
        </p>
      )}
    </>
  );
}
