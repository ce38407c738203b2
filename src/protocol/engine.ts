import type { BackendReport } from '../engine/backend';

/** The 'engine' channel: start-up, the GPU warm-up, failures that concern the whole page. */

/**
 * `backend`: the page's ?backend= as typed (the worker says when it is not a backend).
 * `classifierUrl`, `emojiClassifierUrl`: the meters' digit and emoji category classifiers. `trainDigitsUrl`: the shipped model's training
 * digits (train-digits.json), for the memorisation check. `colourPriorUrl`: the shipped colour model's
 * diffusers folder (ending in '/'), which colour pictures fine-tune.
 */
export type EngineRequest = {
  channel: 'engine';
  type: 'init';
  modelUrl: string;
  backend?: string;
  classifierUrl?: string;
  emojiClassifierUrl?: string;
  trainDigitsUrl?: string;
  colourPriorUrl?: string;
};

export type EngineEvent =
  | { channel: 'engine'; type: 'ready'; report: BackendReport; warning?: string }
  /**
   * WebGPU only: the GPU kernels (pipelines) sampling needs are compiling, before the first run needs
   * them. `total` is null while they are being listed; the last message has `finished: true` (also
   * after a failure). A run asked for meanwhile starts when it ends.
   */
  | { channel: 'engine'; type: 'warmup'; done: number; total: number | null; finished: boolean }
  /** Something that concerns the whole page (a lost GPU device, a worker that failed to start). */
  | { channel: 'engine'; type: 'error'; message: string };

export const ENGINE_STATE = ['ready', 'warmup'] as const;
