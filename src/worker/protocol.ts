/**
 * The typed message protocol between the page (React, no tfjs) and the engine worker (all tfjs).
 * One discriminated union each way.
 */
import type { BackendName, BackendReport } from '../engine/backend';

export type ToEngine = { type: 'init'; preferredBackend?: BackendName };

export type FromEngine =
  | { type: 'ready'; report: BackendReport }
  | { type: 'error'; message: string };
