import { useEffect, useState } from 'react';
import type { StopReason, TrainProgress } from '../../training/session';
import {
  FILMSTRIP_LENGTH,
  type DataSummary,
  type RunState,
  type SavedRunInfo,
  type TrainingRequest,
  type TrainSetup,
} from '../../protocol';
import type { EngineClient } from '../engine-client';
import type { FilmFrame } from './Filmstrip';

/** What the training panel shows: everything the 'training' channel says, gathered into state. */
export interface TrainingView {
  summary: DataSummary | null;
  decode: { done: number; total: number } | null;
  estimate: { seconds: number; setup: TrainSetup } | null;
  /** The estimate in progress: steps done of all (null: none running). */
  estimating: { done: number; total: number } | null;
  state: RunState;
  progress: TrainProgress | null;
  losses: [number, number][];
  film: FilmFrame[];
  stopped: StopReason | null;
  saved: SavedRunInfo | null;
  error: string | null;
}

const INITIAL: TrainingView = {
  summary: null,
  decode: null,
  estimate: null,
  estimating: null,
  state: 'idle',
  progress: null,
  losses: [],
  film: [],
  stopped: null,
  saved: null,
  error: null,
};

/** Distributes `Omit` over a union, keeping each member's own fields. */
type Request = TrainingRequest extends infer R ? (R extends TrainingRequest ? Omit<R, 'channel'> : never) : never;

/** The training channel as React state, and a `send` for its requests (which clears what a new request replaces). */
export function useTraining(engine: EngineClient): { view: TrainingView; send: (request: Request) => void; clearEstimate: () => void } {
  const [view, setView] = useState<TrainingView>(INITIAL);

  useEffect(
    () =>
      engine.subscribe('training', (m) => {
        setView((v) => {
          switch (m.type) {
            case 'data':
              return { ...v, summary: m.summary, decode: null };
            case 'dataProgress':
              return { ...v, decode: { done: m.done, total: m.total } };
            case 'estimateProgress':
              return v.estimating ? { ...v, estimating: { done: m.done, total: m.total } } : v;
            case 'estimate':
              return {
                ...v,
                estimating: null,
                estimate: m.secondsPer1000Steps === null ? v.estimate : { seconds: m.secondsPer1000Steps, setup: m.setup },
              };
            case 'state':
              return { ...v, state: m.state, saved: m.state === 'running' ? null : v.saved };
            case 'progress':
              return { ...v, progress: m.progress, losses: [...v.losses, ...m.losses] };
            case 'preview': {
              const images = { values: m.frame.images, batch: m.frame.batch, size: m.size, channels: m.channels };
              return { ...v, film: [...v.film, { step: m.frame.step, images, asked: m.frame.asked }].slice(-FILMSTRIP_LENGTH) };
            }
            case 'stopped':
              return { ...v, stopped: m.reason };
            case 'savedRun':
              return { ...v, saved: m.run };
            case 'error':
              return { ...v, estimating: null, error: m.message };
          }
        });
      }),
    [engine],
  );

  // a page being hidden or closed may not come back: the worker keeps a checkpoint of the current step
  useEffect(() => {
    const keep = () => {
      if (document.visibilityState === 'hidden') engine.send({ channel: 'training', type: 'keep' });
    };
    document.addEventListener('visibilitychange', keep);
    window.addEventListener('pagehide', keep);
    return () => {
      document.removeEventListener('visibilitychange', keep);
      window.removeEventListener('pagehide', keep);
    };
  }, [engine]);

  const send = (request: Request) => {
    if (request.type === 'estimate') setView((v) => ({ ...v, estimating: { done: 0, total: 0 }, error: null }));
    if (request.type === 'start' || request.type === 'resumeSaved')
      setView((v) => ({ ...v, error: null, stopped: null, film: [], losses: [], progress: null }));
    engine.send({ channel: 'training', ...request });
  };
  const clearEstimate = () => setView((v) => (v.estimate ? { ...v, estimate: null } : v));
  return { view, send, clearEstimate };
}
