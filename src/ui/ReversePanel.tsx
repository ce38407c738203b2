import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { displayStep } from '../diffusion/timestep';
import { runSteps, SAMPLER_NAMES, SAMPLERS, type SamplerName } from '../pipeline/defaults';
import { SAMPLE_BATCHES, type CompareFrame, type ModelInfo, type RunState, type SampleFrame, type SampleSettings } from '../worker/protocol';
import type { EngineClient } from './engine-client';
import { download, stripPng, trajectoryGif, type RecordedFrame } from './export';
import { PauseIcon, PlayIcon, StepIcon, StopIcon } from './icons';
import { ImageCanvas } from './ImageCanvas';
import { MemorisationCheck } from './MemorisationCheck';
import { ComparePanels } from './ComparePanels';
import { GuidanceStrip } from './GuidanceStrip';
import { meanReads, Meter } from './Meter';
import { NumberField, useFieldValidity } from './NumberField';
import type { SamplingChannel } from './sampling-channel';

interface Props {
  engine: EngineClient;
  sampling: SamplingChannel;
  model: ModelInfo;
  /** WebGPU: the GPU kernels being compiled before the first run (null when none are). */
  warmup: Warmup | null;
  /** Start a run when the panel opens: the page's first job is to show a sample denoise. */
  autoStart: boolean;
}

/** Progress of the GPU kernel warm-up: `total` is null while the kernels are being listed. */
export interface Warmup {
  done: number;
  total: number | null;
}

const SPEEDS = [
  { label: 'Max', delayMs: 0 },
  { label: '50 steps/s', delayMs: 20 },
  { label: '10 steps/s', delayMs: 100 },
  { label: '2 steps/s', delayMs: 500 },
];
const GIF_FRAMES = 60;
/** The guidance strip's scales: none, the plain conditional model, and stronger and stronger pushes. */
const GUIDANCE_STRIP = [0, 1, 2, 4, 7];

/** What the panel shows of one run. */
interface RunView {
  run: number;
  frame: SampleFrame | null;
  strip: SampleFrame[];
  /** A strip step clicked to look at (null: follow the run live). */
  selected: SampleFrame | null;
  stats: string;
  /** The meter's p(digit) over the run: [position 0…1, probability]. */
  meter: [number, number][];
  /** Samplers side by side: each one's latest frame. */
  compare: Partial<Record<SamplerName, CompareFrame>>;
}
const EMPTY: RunView = { run: 0, frame: null, strip: [], selected: null, stats: '', meter: [], compare: {} };

/** "Watch a sample denoise": the reverse process, step by step, with x_t, ε̂ and x̂0. */
export function ReversePanel({ engine, sampling, model, warmup, autoStart }: Props) {
  const conditional = model.config.numClasses > 0;
  const T = model.diffusion.numTrainTimesteps;
  const classes = (model.metadata.classes as string[] | undefined) ?? Array.from({ length: model.config.numClasses }, (_, i) => String(i));
  const settings = useSyncExternalStore(sampling.subscribe, sampling.getSettings);
  // the digit the meter follows, read by the frame handler (subscribed once)
  const labelRef = useRef(settings.label);
  useEffect(() => {
    labelRef.current = settings.label;
  }, [settings.label]);
  const [state, setState] = useState<RunState>('idle');
  const [view, setView] = useState<RunView>(EMPTY);
  const [speed, setSpeed] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [copied, setCopied] = useState<string | null>(null);
  const gifFrames = useRef<RecordedFrame[]>([]);
  const nextGifIndex = useRef(0);
  /** The run's active time: ms accumulated before the last pause, and since when it runs (null: paused or idle). */
  const clock = useRef<{ activeMs: number; since: number | null }>({ activeMs: 0, since: null });
  /** The run whose frames `view` holds. */
  const shownRun = useRef(0);
  /** The newest run, started here or by the forward panel's "Denoise from here". */
  const run = useSyncExternalStore(sampling.subscribe, sampling.getRun);

  useEffect(
    () =>
      engine.subscribe('sampling', (m) => {
        if (m.type === 'error') return setError(m.message);
        // messages about a run this page has since replaced (a double click, a stop) are stale
        if (!engine.isCurrentRun(m.run)) return;
        if (m.type === 'state') {
          setState(m.state);
          // steps/s counts the time the run runs, not the time it is paused
          const c = clock.current;
          if (m.state !== 'running' && c.since !== null) clock.current = { activeMs: c.activeMs + performance.now() - c.since, since: null };
          else if (m.state === 'running' && c.since === null) clock.current = { ...c, since: performance.now() };
          if (m.run !== shownRun.current) {
            // the first word of a new run: start afresh
            shownRun.current = m.run;
            gifFrames.current = [];
            nextGifIndex.current = 0;
            clock.current = { activeMs: 0, since: performance.now() };
            setError(null);
            setView({ ...EMPTY, run: m.run });
          }
        } else if (m.type === 'frame') {
          const f = m.frame;
          if (f.keep || f.index >= nextGifIndex.current) {
            gifFrames.current.push({ step: displayStep(f.t), image: f.xt });
            nextGifIndex.current = f.index + f.total / GIF_FRAMES;
          }
          const c = clock.current;
          const seconds = (c.activeMs + (c.since === null ? 0 : performance.now() - c.since)) / 1000;
          setView((v) => ({
            ...v,
            frame: f,
            strip: f.keep ? [...v.strip, f] : v.strip,
            stats: c.since === null ? v.stats : `${((f.index + 1) / seconds).toFixed(1)} steps/s`,
            meter: f.reads ? [...v.meter, [(f.index + 1) / f.total, meterTarget(f.reads, f.xt.batch, labelRef.current)]] : v.meter,
          }));
        } else if (m.type === 'compareFrame') setView((v) => ({ ...v, compare: { ...v.compare, [m.frame.sampler]: m.frame } }));
        else if (m.type === 'done') setView((v) => ({ ...v, stats: `${m.steps} steps in ${(m.elapsedMs / 1000).toFixed(1)} s (${((m.steps * 1000) / m.elapsedMs).toFixed(1)} steps/s)` }));
      }),
    [engine],
  );
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

  // until the worker answers a new run, the panel shows it empty (not the last run's frames)
  const { frame, strip, selected, stats, meter, compare } = view.run === run ? view : EMPTY;
  const stripGuidances = view.run === run ? sampling.guidancesOfRun() : null;
  const setSelected = (f: SampleFrame | null) => setView((v) => ({ ...v, selected: f }));

  // a run asked for during the warm-up starts when it ends: count its speed from then
  const warming = warmup !== null;
  useEffect(() => {
    if (!warming && clock.current.since !== null) clock.current = { activeMs: 0, since: performance.now() };
  }, [warming]);

  const set = <K extends keyof SampleSettings>(k: K, v: SampleSettings[K]) => sampling.set(k, v);
  /** No run starts while a field shows an error. */
  const fields = useFieldValidity();
  const primary =
    state === 'running'
      ? { label: 'Pause', Icon: PauseIcon, testId: 'pause', act: () => sampling.pause() }
      : state === 'paused'
        ? { label: 'Resume', Icon: PlayIcon, testId: 'resume', act: () => sampling.resume() }
        : { label: 'Sample', Icon: PlayIcon, testId: 'sample', act: () => sampling.start() };
  const shown = selected ?? frame;
  const running = state !== 'idle';
  const total = shown?.total ?? runSteps(settings.sampler, settings.steps, T);
  const fewSteps = SAMPLERS[settings.sampler].defaultSteps !== null;
  /** The run reached its last step (a side-by-side run has no one batch of samples to check). */
  const finished = state === 'idle' && frame !== null && frame.index === frame.total - 1 && !sampling.runIsComparison();

  return (
    <section className="panel" aria-labelledby="reverse-title">
      <h2 id="reverse-title">Reverse process: watch a sample denoise</h2>
      <p className="hint">
        Start from pure Gaussian noise x<sub>T</sub> and let the network ε<sub>θ</sub> predict the noise at each step; the scheduler removes a little of it (Algorithm 2).
      </p>
      <p className="next" data-testid="next-hint" role="status">
        {run === 0
          ? 'Press Sample to watch pure noise become a digit, one denoising step at a time.'
          : frame && frame.index === frame.total - 1
            ? 'Try next: another digit under Draw, DPM-Solver++ (a digit in 20 steps), a click on a trajectory step, or the forward process on the right.'
            : state === 'idle' && frame
              ? 'Stopped. Press Sample for a new run, or click a trajectory step to look at it.'
              : (
              <>
                Denoising: the network predicts the noise ε̂ in x<sub>t</sub>, the scheduler removes some of it, and x̂<sub>0</sub> is its current guess of the final {model.config.numClasses > 0 ? 'digit' : 'image'}.
              </>
            )}
      </p>
      {training && state === 'running' && (
        <p className="muted note" data-testid="training-note">
          Training is running in the same worker on the same device, so sampling takes turns with it and runs much slower. Pause training to sample at full speed.
        </p>
      )}
      <div className="controls" role="group" aria-label="Sampling controls">
        {/* one button whose action follows the run, so keyboard focus stays on it when the run starts and ends */}
        <button type="button" className="primary" onClick={primary.act} disabled={state === 'idle' && !fields.valid} data-testid={primary.testId}>
          <primary.Icon /> {primary.label}
        </button>
        <button type="button" onClick={() => sampling.step()} disabled={state !== 'paused'} data-testid="step">
          <StepIcon /> Step
        </button>
        <button type="button" onClick={() => sampling.stop()} disabled={!running} data-testid="stop">
          <StopIcon /> Stop
        </button>
        <label>
          Speed
          <select
            data-testid="speed"
            value={speed}
            onChange={(e) => {
              const v = Number(e.target.value);
              setSpeed(v);
              sampling.setSpeed(SPEEDS[v].delayMs);
            }}
          >
            {SPEEDS.map((s, i) => (
              <option key={s.label} value={i}>
                {s.label}
              </option>
            ))}
          </select>
        </label>
      </div>
      <fieldset className="controls" disabled={running}>
        <legend className="visually-hidden">Sampler settings</legend>
        <label>
          Sampler
          <select
            value={settings.sampler}
            onChange={(e) => {
              const sampler = e.target.value as SampleSettings['sampler'];
              set('sampler', sampler);
              // each few-step sampler starts at its own usual step count (DDIM 50, DPM-Solver++ 20)
              if (SAMPLERS[sampler].defaultSteps !== null) set('steps', SAMPLERS[sampler].defaultSteps!);
            }}
            data-testid="sampler"
          >
            {SAMPLER_NAMES.map((name) => (
              <option key={name} value={name}>
                {SAMPLERS[name].label}
                {SAMPLERS[name].defaultSteps === null ? ` (${T} steps)` : ''}
              </option>
            ))}
          </select>
        </label>
        {fewSteps && (
          <label>
            Steps
            <NumberField value={settings.steps} min={1} max={T} integer onCommit={(v) => set('steps', v)} onValidity={fields.onValidity('steps')} testId="steps" />
          </label>
        )}
        {SAMPLERS[settings.sampler].eta && (
          <label>
            η {settings.eta.toFixed(2)}
            <input type="range" min={0} max={1} step={0.05} value={settings.eta} onChange={(e) => set('eta', Number(e.target.value))} />
          </label>
        )}
        <label>
          Batch
          <select value={settings.batch} onChange={(e) => set('batch', Number(e.target.value))} data-testid="batch">
            {SAMPLE_BATCHES.map((b) => (
              <option key={b} value={b}>
                {b}
              </option>
            ))}
          </select>
        </label>
        {conditional && (
          <>
            <label>
              Draw
              <select value={settings.label ?? ''} onChange={(e) => set('label', e.target.value === '' ? null : Number(e.target.value))} data-testid="label">
                {classes.map((c, i) => (
                  <option key={c} value={i}>
                    {c}
                  </option>
                ))}
                <option value="">anything (no label)</option>
              </select>
            </label>
            <label title="Classifier-free guidance: ε = ε_uncond + s·(ε_cond − ε_uncond)">
              Guidance {settings.guidance.toFixed(1)}
              <input type="range" min={0} max={6} step={0.5} value={settings.guidance} onChange={(e) => set('guidance', Number(e.target.value))} data-testid="guidance" />
            </label>
          </>
        )}
        <label>
          Seed
          <NumberField value={settings.seed} min={0} max={2 ** 31 - 1} integer onCommit={(v) => set('seed', v)} onValidity={fields.onValidity('seed')} testId="seed" />
        </label>
        <button type="button" onClick={() => set('seed', Math.floor(Math.random() * 100000))} aria-label="Random seed">
          Random
        </button>
        <button type="button" disabled={!fields.valid} title="every sampler from the same noise, side by side" onClick={() => sampling.compare()} data-testid="compare-run">
          Compare samplers
        </button>
        {conditional && (
          <button
            type="button"
            disabled={settings.label === null || !fields.valid}
            title={settings.label === null ? 'choose a class to draw' : `the same noise at guidance ${GUIDANCE_STRIP.join(', ')}`}
            onClick={() => sampling.start(undefined, GUIDANCE_STRIP)}
            data-testid="guidance-strip-run"
          >
            Guidance strip
          </button>
        )}
        <button
          type="button"
          onClick={() =>
            navigator.clipboard.writeText(sampling.link()).then(
              () => setCopied('Link copied: it opens this page with these settings.'),
              () => setCopied('Copy failed here; the address bar holds the link.'),
            )
          }
          data-testid="copy-link"
        >
          Copy link
        </button>
        {copied && (
          <span className="muted" role="status" data-testid="copy-status">
            {copied}
          </span>
        )}
      </fieldset>

      {error && (
        <p role="alert" className="error" data-testid="sample-error">
          {error}
        </p>
      )}
      {warmup && (
        <div className="status" data-testid="warmup" title="WebGPU compiles each GPU kernel the first time it runs; compiling them all now keeps the first step from freezing">
          <span role="status">Preparing GPU kernels…{warmup.total ? ` ${warmup.done}/${warmup.total}` : ''}</span>
          <progress max={warmup.total || undefined} value={warmup.total ? warmup.done : undefined} aria-label="GPU kernels compiled" />
          {running && <span className="muted">the run starts when they are ready</span>}
        </div>
      )}
      <div className="status" aria-live="off">
        <progress max={total} value={shown ? shown.index + 1 : 0} aria-label="Denoising progress" />
        <span data-testid="counter">t = {displayStep(shown ? shown.t : SAMPLERS[settings.sampler].spacing(T, runSteps(settings.sampler, settings.steps, T))[0])}</span>
        <span data-testid="step-count">{shown ? `step ${shown.index + 1} / ${shown.total}` : `${total} steps`}</span>
        <span className="muted rate" data-testid="rate">{stats}</span>
        {selected && (
          <button type="button" onClick={() => setSelected(null)}>
            Back to live
          </button>
        )}
      </div>

      <div className="triptych">
        <figure>
          <ImageCanvas image={shown?.xt ?? null} displaySize={256} label="current sample x_t" testId="xt" />
          <figcaption>x<sub>t</sub> — the sample</figcaption>
        </figure>
        <figure>
          <ImageCanvas image={shown?.predNoise ?? null} range="noise" displaySize={256} label="predicted noise" testId="eps" />
          <figcaption>ε̂ — the noise the network predicts in x<sub>t</sub></figcaption>
        </figure>
        <figure>
          <ImageCanvas image={shown?.predOriginal ?? null} displaySize={256} label="predicted clean image" testId="x0" />
          <figcaption>x̂<sub>0</sub> — its guess of the final image</figcaption>
          {shown?.reads && <Meter reads={shown.reads} batch={shown.xt.batch} label={settings.label} history={meter} />}
        </figure>
      </div>

      {stripGuidances && frame && frame.xt.batch === stripGuidances.length && settings.label !== null && <GuidanceStrip frame={frame} guidances={stripGuidances} label={settings.label} />}
      {view.run === run && sampling.runIsComparison() && <ComparePanels frames={compare} />}
      <h3>Trajectory</h3>
      <ol className="strip" data-testid="strip">
        {strip.map((f) => (
          <li key={f.index}>
            <ImageCanvas image={f.xt} displaySize={64} label={`step t = ${displayStep(f.t)}`} onClick={() => setSelected(f)} />
            <span>t={displayStep(f.t)}</span>
          </li>
        ))}
      </ol>
      <div className="controls">
        <button type="button" disabled={running || gifFrames.current.length === 0} onClick={() => download(trajectoryGif(gifFrames.current), 'ddpm-trajectory.gif')} data-testid="export-gif">
          Export GIF
        </button>
        <button
          type="button"
          disabled={running || strip.length === 0}
          onClick={async () => download(await stripPng(strip.map((f) => ({ step: displayStep(f.t), image: f.xt }))), 'ddpm-strip.png')}
          data-testid="export-png"
        >
          Export PNG strip
        </button>
      </div>
      <MemorisationCheck key={run} engine={engine} model={model} samples={finished && frame ? frame.xt : null} />
    </section>
  );
}


/** The meter's probability of the asked-for digit (or, with none asked for, of the likeliest one). */
function meterTarget(reads: Float32Array, batch: number, label: number | null): number {
  const probs = meanReads(reads, batch);
  return label === null ? Math.max(...probs) : probs[label];
}
