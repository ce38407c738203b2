import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import type { SamplerName } from '../../pipeline/defaults';
import { displayImageStep, displayStep } from '../../diffusion/timestep';
import type { CompareFrame, ImageBatch, RunState, SampleFrame } from '../../protocol';
import type { EngineClient } from '../engine-client';
import { meanReads } from '../Meter';
import type { SamplingChannel } from '../sampling-channel';
import { RunClock } from './run-clock';
import { TrajectoryRecorder } from './trajectory-recorder';

/** One image of the trajectory strip: the step it is at (0: the clean image), and its frame (null: the image the run started from). */
export interface StripCell {
  step: number;
  image: ImageBatch;
  frame: SampleFrame | null;
}

/** What the reverse panel shows of one run. */
export interface RunView {
  run: number;
  frame: SampleFrame | null;
  strip: StripCell[];
  /** A strip step clicked to look at (null: follow the run live). */
  selected: SampleFrame | null;
  stats: string;
  /** The meter's p(digit) over the run: [position 0…1, probability]. */
  meter: [number, number][];
  /** Samplers side by side: each one's latest frame. */
  compare: Partial<Record<SamplerName, CompareFrame>>;
}
const EMPTY: RunView = { run: 0, frame: null, strip: [], selected: null, stats: '', meter: [], compare: {} };

/**
 * The reverse panel's side of the sampling channel: the newest run's state, frames, trajectory strip,
 * steps/s (over its running time), the meter's curve and the frames kept for a GIF. Messages about a
 * run the page has since replaced are dropped.
 */
export function useSamplingRun(engine: EngineClient, sampling: SamplingChannel, label: number | null, warming: boolean) {
  // the digit the meter follows, read by the frame handler (subscribed once)
  const labelRef = useRef(label);
  useEffect(() => {
    labelRef.current = label;
  }, [label]);
  const [state, setState] = useState<RunState>('idle');
  const [view, setView] = useState<RunView>(EMPTY);
  const [error, setError] = useState<string | null>(null);
  /** A large model's network pass as timed on this device (null: not measured). */
  const [speed, setSpeed] = useState<{ params: number; msPerStep: number } | null>(null);
  const recorder = useRef(new TrajectoryRecorder());
  const clock = useRef(new RunClock());
  /** The run whose frames `view` holds. */
  const shownRun = useRef(0);
  /** The newest run, started here or by the forward panel's "Denoise from here". */
  const run = useSyncExternalStore(sampling.subscribe, sampling.getRun);

  useEffect(
    () =>
      engine.subscribe('sampling', (m) => {
        if (m.type === 'error') return setError(m.message);
        if (m.type === 'speed') return setSpeed({ params: m.params, msPerStep: m.msPerStep });
        // messages about a run this page has since replaced (a double click, a stop) are stale
        if (!sampling.isCurrent(m.run)) return;
        if (m.type === 'state') {
          setState(m.state);
          // steps/s counts the time the run runs, not the time it is paused
          clock.current.setRunning(m.state === 'running');
          if (m.run !== shownRun.current) {
            // the first word of a new run: start afresh
            shownRun.current = m.run;
            recorder.current.clear();
            clock.current.restart();
            setError(null);
            setView({ ...EMPTY, run: m.run });
          }
        } else if (m.type === 'frame') {
          const f = m.frame;
          recorder.current.add(f);
          if (f.index === f.total - 1 && !sampling.runIsComparison()) sampling.finished(f.xt);
          const c = clock.current;
          setView((v) => ({
            ...v,
            frame: f,
            strip: [
              ...v.strip,
              ...(f.start ? [{ step: displayStep(f.start.at), image: f.start.xt, frame: null }] : []),
              ...(f.keep ? [{ step: displayImageStep(f.at), image: f.xt, frame: f }] : []),
            ],
            stats: c.running ? `${((f.index + 1) / c.seconds()).toFixed(1)} steps/s` : v.stats,
            meter: f.reads ? [...v.meter, [(f.index + 1) / f.total, meterTarget(f.reads, f.xt.batch, labelRef.current)]] : v.meter,
          }));
        } else if (m.type === 'compareFrame') {
          // the chosen sampler's result is the run's sample (for the forward panel)
          if (m.frame.at === null && m.frame.sampler === sampling.getSettings().sampler) sampling.finished(m.frame.xt);
          setView((v) => ({ ...v, compare: { ...v.compare, [m.frame.sampler]: m.frame } }));
        } else if (m.type === 'done')
          setView((v) => ({
            ...v,
            stats: `${m.steps} steps in ${(m.elapsedMs / 1000).toFixed(1)} s (${((m.steps * 1000) / m.elapsedMs).toFixed(1)} steps/s)`,
          }));
      }),
    [engine, sampling],
  );

  // a run asked for during the warm-up starts when it ends: count its speed from then
  useEffect(() => {
    if (!warming && clock.current.running) clock.current.restart();
  }, [warming]);

  return {
    run,
    state,
    error,
    speed,
    /** Until the worker answers a new run, the panel shows it empty (not the last run's frames). */
    view: view.run === run ? view : EMPTY,
    /** The frames kept for a GIF of the run. */
    recorded: recorder.current.frames,
    select: (f: SampleFrame | null) => setView((v) => ({ ...v, selected: f })),
  };
}

/** The meter's probability of the asked-for digit (or, with none asked for, of the likeliest one). */
function meterTarget(reads: Float32Array, batch: number, label: number | null): number {
  const probs = meanReads(reads, batch);
  return label === null ? Math.max(...probs) : probs[label];
}
