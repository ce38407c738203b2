import type { DiffusionConfig } from '../diffusion/scheduler';
import type { ModelConfig } from '../model/config';
import type { ModelMetadata } from '../model/metadata';

/** The 'models' channel: which model the panels run on; using, exporting and importing models. */

export interface ModelInfo {
  config: ModelConfig;
  diffusion: DiffusionConfig;
  metadata: ModelMetadata;
  /** A name per class (index = label), from the metadata or '0', '1', …; empty for an unconditional model. */
  classes: string[];
  /** Where the weights came from: the shipped file (or a random stand-in when it is missing), this page's training, or a file. */
  source: 'shipped' | 'random' | 'trained' | 'imported';
  numParams: number;
}

export type ModelsRequest =
  /** Make the panels run on the trained model (its EMA weights), or on the shipped one again. */
  | { channel: 'models'; type: 'use'; which: 'trained' | 'shipped' }
  | { channel: 'models'; type: 'export' }
  | { channel: 'models'; type: 'import'; files: File[] };

export type ModelsEvent =
  /** The model the panels run on (at start-up, and whenever it changes). */
  | { channel: 'models'; type: 'active'; model: ModelInfo }
  /** The trained model can be used or exported. */
  | { channel: 'models'; type: 'trained'; available: boolean }
  | { channel: 'models'; type: 'file'; data: ArrayBuffer; name: string }
  | { channel: 'models'; type: 'error'; message: string };

export const MODELS_STATE = ['active', 'trained'] as const;
