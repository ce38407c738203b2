import type { DataFile, DataOptions, DataSummary } from '../data/collection';
import type { RunState } from '../engine/pause-gate';
import type { TrainSetup } from '../training/recipe';
import type { PreviewFrame, StopReason, TrainProgress } from '../training/session';

/** The 'training' channel: the person's data set, the training run and its copy in this browser. */

/** The training filmstrip's length: the newest previews the page shows, and a saved run keeps. */
export const FILMSTRIP_LENGTH = 24;

/**
 * A run keeps a checkpoint at least this often, besides every pause and stop and when the page is
 * hidden: how far a run that was training when the page closed may go back.
 */
export const KEEP_EVERY_MS = 15_000;

/** The example data sets the panel offers. */
export type ExampleSet = 'captioned-digits';

/** A training run saved in this browser (IndexedDB) that can be resumed. */
export interface SavedRunInfo {
  step: number;
  totalSteps: number;
  images: number;
  savedAt: number;
  /** It reached totalSteps: nothing to resume, a model to use. */
  finished: boolean;
  /** The form it was started with (older saves have none). */
  setup: TrainSetup | null;
}

export type TrainingRequest =
  /** Training data: add files, change size/colour/fit (re-decodes everything kept), or start over. */
  | { channel: 'training'; type: 'addFiles'; files: DataFile[] }
  | { channel: 'training'; type: 'dataOptions'; options: DataOptions }
  | { channel: 'training'; type: 'clearData' }
  /** Train on the pictures' captions (a text model) or not. */
  | { channel: 'training'; type: 'captions'; on: boolean }
  /** Replace the data with an example set. */
  | { channel: 'training'; type: 'example'; set: ExampleSet }
  | { channel: 'training'; type: 'estimate' | 'start'; setup: TrainSetup }
  | { channel: 'training'; type: 'cancelEstimate' }
  | { channel: 'training'; type: 'resumeSaved' | 'discardSaved' | 'pause' | 'resume' | 'stop' }
  /** The page is being hidden or closed: keep a checkpoint of the current step now. */
  | { channel: 'training'; type: 'keep' };

export type TrainingEvent =
  | { channel: 'training'; type: 'dataProgress'; done: number; total: number }
  | { channel: 'training'; type: 'data'; summary: DataSummary }
  /** The estimate's steps so far (a big setting takes a while), then its figure (null: cancelled). */
  | { channel: 'training'; type: 'estimateProgress'; done: number; total: number }
  | { channel: 'training'; type: 'estimate'; secondsPer1000Steps: number | null; setup: TrainSetup }
  | { channel: 'training'; type: 'state'; state: RunState; step: number }
  /** Progress, with every [step, loss] since the last message. */
  | { channel: 'training'; type: 'progress'; progress: TrainProgress; losses: [number, number][] }
  | { channel: 'training'; type: 'preview'; frame: PreviewFrame; size: number; channels: number }
  | { channel: 'training'; type: 'stopped'; reason: StopReason }
  /** A run saved by an earlier visit, or null. */
  | { channel: 'training'; type: 'savedRun'; run: SavedRunInfo | null }
  | { channel: 'training'; type: 'error'; message: string };

export const TRAINING_STATE = ['data', 'state', 'savedRun'] as const;
