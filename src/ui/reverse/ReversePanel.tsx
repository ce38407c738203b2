import { lazy, Suspense, useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { parsePrompt } from '../../data/captioned-digits';
import { displayStep } from '../../diffusion/timestep';
import { runSteps, SAMPLERS } from '../../pipeline/defaults';
import type { ModelInfo } from '../../protocol';
import type { EngineClient } from '../engine-client';
import { GuidanceStrip } from '../GuidanceStrip';
import { meterNames } from '../Meter';
import { MemorisationCheck } from '../MemorisationCheck';
import { useFieldValidity } from '../NumberField';
import type { SamplingChannel } from '../sampling-channel';
import { comparisonSamples } from './compare-samples';
import { RunControls } from './RunControls';
import { RunStatus, Trajectory, Triptych } from './RunViews';
import { SamplerSettings } from './SamplerSettings';
import { useSamplingRun } from './use-sampling-run';

interface Props {
  engine: EngineClient;
  sampling: SamplingChannel;
  model: ModelInfo;
  /** WebGPU: the GPU kernels being compiled before the first run (null when none are). */
  warmup: Warmup | null;
  /** Start a run when the panel opens: the page's first job is to show a sample denoise. */
  autoStart: boolean;
}

/** A text model's attention maps load with its first frame that has them (the main bundle stays small). */
const AttentionView = lazy(() => import('./AttentionView').then((m) => ({ default: m.AttentionView })));

/** Samplers side by side load when a comparison first runs. */
const CompareView = lazy(() => import('./CompareView').then((m) => ({ default: m.CompareView })));

/** A run longer than this starts a large model on a few-step sampler instead. */
const LONG_RUN_MS = 60_000;

/** "0.8 s", "27 s", "9 min", "2.5 h". */
function duration(ms: number): string {
  const s = ms / 1000;
  if (s < 1) return `${Math.round(ms)} ms`;
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

/** Progress of the GPU kernel warm-up: `total` is null while the kernels are being listed. */
export interface Warmup {
  done: number;
  total: number | null;
}

/** "Watch a sample denoise": the reverse process, step by step, with x_t, ε̂ and x̂0. */
export function ReversePanel({ engine, sampling, model, warmup, autoStart }: Props) {
  const T = model.diffusion.numTrainTimesteps;
  const settings = useSyncExternalStore(sampling.subscribe, sampling.getSettings);
  /** The digit the meter follows: the class asked for, or the one a text model's prompt names. */
  const asked = settings.label ?? (settings.prompt ? (parsePrompt(settings.prompt).digit ?? null) : null);
  const { run, state, error, speed, view, recorded, select } = useSamplingRun(engine, sampling, asked, warmup !== null);
  /** This model's network pass as timed here (large models only). */
  const msPerStep = speed && speed.params === model.numParams ? speed.msPerStep : null;
  // a large model whose 1000-step run would take over a minute starts on DPM-Solver++ at 20 steps
  const defaulted = useRef(false);
  useEffect(() => {
    if (msPerStep === null || defaulted.current) return;
    defaulted.current = true;
    if (msPerStep * T > LONG_RUN_MS && settings.sampler === 'ddpm' && !new URLSearchParams(location.search).has('sampler')) {
      sampling.set('sampler', 'dpm-solver++');
      sampling.set('steps', 20);
    }
  }, [msPerStep, T, settings.sampler, sampling]);
  const { frame, strip, selected, stats, meter, compare } = view;
  const isCurrentView = view.run === run && run !== 0;
  const stripGuidances = isCurrentView ? sampling.guidancesOfRun() : null;

  // the first view: a run starts by itself (once, also under StrictMode's double effects)
  const autoStarted = useRef(false);
  useEffect(() => {
    if (!autoStart || autoStarted.current) return;
    autoStarted.current = true;
    sampling.start();
  }, [autoStart, sampling]);

  // training shares the worker (and the device): sampling meanwhile is much slower, and the page says why
  const [training, setTraining] = useState(false);
  useEffect(() => engine.subscribe('training', (m) => void (m.type === 'state' && setTraining(m.state === 'running'))), [engine]);

  /** No run starts while a field shows an error. */
  const fields = useFieldValidity();
  /** The hints speak of digits for a model whose classes are the ten digits. */
  const digits = model.classes.length === 10 && model.classes.every((c, i) => c === String(i));
  const shown = selected ?? frame;
  const running = state !== 'idle';
  const steps = runSteps(settings.sampler, settings.steps, T);
  /** Samplers side by side: the comparison owns the view while it runs and after. */
  const comparing = run !== 0 && sampling.runIsComparison();
  /** The run's samples once it reached the clean image (a comparison's: every sampler's). */
  const samples = state !== 'idle' ? null : comparing ? comparisonSamples(compare) : frame?.at === null ? frame.xt : null;

  return (
    <section className="panel" aria-labelledby="reverse-title">
      <h2 id="reverse-title">Reverse process: watch a sample denoise</h2>
      <p className="hint">
        Start from pure Gaussian noise x<sub>T</sub> and let the network ε<sub>θ</sub> predict the noise at each step; the scheduler removes
        a little of it (Algorithm 2).
      </p>
      <p className="next" data-testid="next-hint" role="status">
        {run === 0 && settings.prompt !== undefined ? (
          'Type a prompt — “a small 7 in the bottom left”, “big three” — and press Sample to watch the words steer the noise.'
        ) : run === 0 ? (
          `Press Sample to watch pure noise become ${digits ? 'a digit' : 'an image'}, one denoising step at a time.`
        ) : comparing ? (
          samples ? (
            'Finished: the same noise through three samplers — compare their pictures, steps and times. Check the samples below, export them, or press Sample for a single run.'
          ) : state === 'idle' ? (
            'Stopped. Press Sample for a single run, or Compare samplers to start the comparison again.'
          ) : (
            'Comparing: the same noise x_T through DDPM, DDIM and DPM-Solver++, a step of each in turn, each with its own steps and time so far.'
          )
        ) : frame && frame.index === frame.total - 1 && settings.prompt !== undefined ? (
          'Try next: another size or place, a negative prompt, a prompt switch mid-run, or a click on a trajectory step to see where each word steered at that t.'
        ) : frame && frame.index === frame.total - 1 ? (
          `Try next: ${model.config.numClasses > 0 ? `another ${digits ? 'digit' : 'class'} under Draw` : 'another seed'}, DPM-Solver++ (${digits ? 'a digit' : 'a sample'} in 20 steps), a click on a trajectory step, or the forward process on the right.`
        ) : state === 'idle' && frame ? (
          'Stopped. Press Sample for a new run, or click a trajectory step to look at it.'
        ) : (
          <>
            Denoising: the network predicts the noise ε̂ in x<sub>t</sub>, the scheduler removes some of it, and x̂<sub>0</sub> is its current
            guess of the final {digits ? 'digit' : 'image'}.
          </>
        )}
      </p>
      {training && state === 'running' && (
        <p className="muted note" data-testid="training-note">
          Training is running in the same worker on the same device, so sampling takes turns with it and runs much slower. Pause training to
          sample at full speed.
        </p>
      )}
      {msPerStep !== null && (
        <p className="muted note" data-testid="speed-estimate">
          A step of this model takes {duration(msPerStep)} here
          {model.unlabelled && model.config.numClasses > 0 ? ' (twice that with guidance)' : ''}: DDPM {T} steps ≈ {duration(msPerStep * T)}
          , DDIM 50 ≈ {duration(msPerStep * 50)}, DPM-Solver++ 20 ≈ {duration(msPerStep * 20)}.
        </p>
      )}
      <RunControls sampling={sampling} state={state} canStart={fields.valid} />
      <SamplerSettings sampling={sampling} settings={settings} model={model} disabled={running} fields={fields} />
      {error && (
        <p role="alert" className="error" data-testid="sample-error">
          {error}
        </p>
      )}
      {warmup && (
        <div
          className="status"
          data-testid="warmup"
          title="WebGPU compiles each GPU kernel the first time it runs; compiling them all now keeps the first step from freezing"
        >
          <span role="status">Preparing GPU kernels…{warmup.total ? ` ${warmup.done}/${warmup.total}` : ''}</span>
          <progress max={warmup.total || undefined} value={warmup.total ? warmup.done : undefined} aria-label="GPU kernels compiled" />
          {running && <span className="muted">the run starts when they are ready</span>}
        </div>
      )}
      {comparing ? (
        <Suspense fallback={null}>
          <CompareView frames={compare} running={running} names={meterNames(model)} />
        </Suspense>
      ) : (
        <>
          <RunStatus
            shown={shown}
            total={shown?.total ?? steps}
            firstT={displayStep(SAMPLERS[settings.sampler].spacing(T, steps)[0])}
            stats={stats}
            onLive={selected ? () => select(null) : null}
          />
          <Triptych shown={shown} label={asked} names={meterNames(model)} meter={meter} />
          {shown?.attention && (
            <Suspense fallback={null}>
              <AttentionView shown={shown} />
            </Suspense>
          )}
          {stripGuidances && frame && frame.xt.batch === stripGuidances.length && (settings.label !== null || settings.prompt) && (
            <GuidanceStrip frame={frame} guidances={stripGuidances} label={asked} names={meterNames(model)} />
          )}
          <Trajectory strip={strip} recorded={recorded} running={running} onSelect={select} />
        </>
      )}
      <MemorisationCheck key={run} engine={engine} model={model} samples={samples} />
    </section>
  );
}
