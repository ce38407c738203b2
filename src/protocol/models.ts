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
  /** A class-conditional model trained with a "no label" class can draw "anything" and take guidance (diffusers' UNet2DModel has none). */
  unlabelled: boolean;
  /**
   * Where the weights came from: the shipped file (or a random stand-in when it is missing), another
   * model shipped with the page (the text-to-image one, the emoji), this page's training, a file, or the Hugging Face Hub.
   */
  source: 'shipped' | 'random' | 'example' | 'trained' | 'imported' | 'hub';
  numParams: number;
}

export type ModelsRequest =
  /** Make the panels run on the trained model (its EMA weights), or on the shipped one again. */
  | { channel: 'models'; type: 'use'; which: 'trained' | 'shipped' }
  /** Another model shipped with the page: the text-to-image one (its model.json URL) or the emoji (its diffusers folder, a URL ending in '/'). */
  | { channel: 'models'; type: 'example'; url: string }
  /** The trained model as a file: the page's .ddpm, or a diffusers folder zipped (a UNet2DModel only). */
  | { channel: 'models'; type: 'export'; format: 'ddpm' | 'diffusers' }
  /** Files a person chose or dropped: a .ddpm, model.json + weights, or a diffusers folder (config.json + weights [+ scheduler_config.json]). */
  | { channel: 'models'; type: 'import'; files: File[] }
  /** A diffusers model from the Hugging Face Hub (or a server with its URL layout at `endpoint`). */
  | { channel: 'models'; type: 'hub'; repo: string; revision: string; endpoint: string }
  | { channel: 'models'; type: 'cancelDownload' };

export type ModelsEvent =
  /** The model the panels run on (at start-up, and whenever it changes). */
  | { channel: 'models'; type: 'active'; model: ModelInfo }
  /** The trained model can be used or exported (`diffusers`: also as a diffusers folder). */
  | { channel: 'models'; type: 'trained'; available: boolean; diffusers: boolean }
  | { channel: 'models'; type: 'file'; data: ArrayBuffer; name: string }
  /** A hub download under way: the file, bytes so far and its size (null: unknown); `done` true once it ended (loaded or not). */
  | { channel: 'models'; type: 'download'; repo: string; file: string; loaded: number; total: number | null; finished: boolean }
  | { channel: 'models'; type: 'error'; message: string };

export const MODELS_STATE = ['active', 'trained'] as const;
