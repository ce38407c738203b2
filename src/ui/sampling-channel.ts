import { isTextUNet } from '../model/config';
import { SAMPLER_NAMES, SAMPLING_DEFAULTS } from '../pipeline/defaults';
import type { ImageBatch, ModelInfo, SampleSettings, SampleStart } from '../protocol';
import { pick } from './pixels';
import type { EngineClient } from './engine-client';
import { settingsFromUrl, settingsParams, writeUrl } from './url-state';

/** A guidance strip runs DDIM for 10 steps whatever sampler is chosen: five pictures at once, in seconds. */
export const GUIDANCE_STRIP_RUN: Pick<SampleSettings, 'sampler' | 'steps'> = { sampler: 'ddim', steps: 10 };

/**
 * A text model's first settings: a prompt with a digit, a size and a place; DPM-Solver++, 20 steps;
 * guidance 3, the best of 1, 2 and 3 for the shipped model (docs/text-to-image.md).
 */
export const TEXT_DEFAULTS: Partial<SampleSettings> = {
  prompt: 'a small 3 in the top left',
  guidance: 3,
  negativePrompt: '',
  promptSwitch: null,
  sampler: 'dpm-solver++',
  steps: 20,
};

/**
 * What a model's own metadata says to open it on (the emoji model's playground.json: DPM-Solver++
 * 20 steps at guidance 3.5, Smileys & Emotion — docs/colour.md — kept by the models fine-tuned from
 * it): the settings that fit it, a sampler the page has and a class the model has.
 */
export function hintedSettings(model: ModelInfo): Partial<SampleSettings> {
  const hint = model.metadata.sampling;
  if (!hint) return {};
  const sampler = SAMPLER_NAMES.find((s) => s === hint.sampler);
  return {
    ...(sampler ? { sampler } : {}),
    ...(hint.steps !== undefined ? { steps: hint.steps } : {}),
    ...(hint.guidance !== undefined && model.unlabelled ? { guidance: hint.guidance } : {}),
    ...(hint.label !== undefined && hint.label < model.config.numClasses ? { label: hint.label } : {}),
  };
}

/**
 * The sampling settings both panels share (the reverse panel edits them; the forward panel's
 * "Denoise from here" runs with them), the requests of the sampling channel, and the one owner of
 * sampling run ids: it makes them, and says which is current. A small store for useSyncExternalStore.
 */
export class SamplingChannel {
  /** The last run id made on this page: ids are unique across models (a channel is made per model). */
  private static lastRun = 0;
  private current: SampleSettings;
  /** The id of the newest run started here (0: none yet), and its guidance scales when it is a guidance strip. */
  private run = 0;
  private runGuidances: number[] | null = null;
  private runCompares = false;
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly engine: EngineClient,
    model: ModelInfo,
  ) {
    const nc = model.config.numClasses;
    const byDefault = nc > 0 ? Math.min(3, nc - 1) : null;
    // a text model starts on a prompt, and on the fast sampler: prompts are for trying one after another;
    // another model on what its metadata says
    const own = isTextUNet(model.config) ? TEXT_DEFAULTS : hintedSettings(model);
    // a link's settings (validated for this model) over the defaults
    const settings = { ...SAMPLING_DEFAULTS, batch: 1, label: byDefault, ...own, ...settingsFromUrl(location.search, model) };
    // a model without a "no label" class always draws a class
    this.current = settings.label === null && !model.unlabelled ? { ...settings, label: byDefault } : settings;
  }

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getSettings = (): SampleSettings => this.current;

  readonly getRun = (): number => this.run;

  /** The first image of the newest finished run's samples (null: none yet), for the forward panel. */
  private last: ImageBatch | null = null;

  readonly getLastSample = (): ImageBatch | null => this.last;

  /** A run finished with these samples: its first becomes the last sample. */
  finished(samples: ImageBatch): void {
    this.last = pick(samples, 0);
    this.listeners.forEach((l) => l());
  }

  /** Whether a message about run `id` concerns the newest run (messages about runs since replaced are stale). */
  isCurrent(id: number): boolean {
    return id !== 0 && id === this.run;
  }

  /** The guidance scales of the newest run when it is a guidance strip, else null. */
  guidancesOfRun(): number[] | null {
    return this.runGuidances;
  }

  /** Whether the newest run puts every sampler side by side. */
  runIsComparison(): boolean {
    return this.runCompares;
  }

  /** Every sampler from the same noise and labels, side by side; returns the run's id. */
  compare(): number {
    this.run = ++SamplingChannel.lastRun;
    this.runGuidances = null;
    this.runCompares = true;
    this.engine.send({ channel: 'sampling', type: 'compare', run: this.run, settings: this.current });
    this.listeners.forEach((l) => l());
    return this.run;
  }

  set<K extends keyof SampleSettings>(key: K, value: SampleSettings[K]): void {
    this.current = { ...this.current, [key]: value };
    writeUrl(settingsParams(this.current)); // the address reproduces the run
    this.listeners.forEach((l) => l());
  }

  /** A link to this page with these settings (and the rest of the address as it is). */
  link(): string {
    writeUrl(settingsParams(this.current));
    return location.href;
  }

  /**
   * Starts a run with the current settings, from pure noise or from the forward panel's x_t, or a
   * guidance strip (one image per scale, GUIDANCE_STRIP_RUN's sampler); returns its id.
   */
  start(from?: SampleStart, guidances?: number[]): number {
    this.run = ++SamplingChannel.lastRun;
    this.runGuidances = guidances ?? null;
    this.runCompares = false;
    const settings = guidances ? { ...this.current, ...GUIDANCE_STRIP_RUN } : this.current;
    this.engine.send({ channel: 'sampling', type: 'start', run: this.run, settings, from, guidances });
    this.listeners.forEach((l) => l());
    return this.run;
  }

  pause(): void {
    this.engine.send({ channel: 'sampling', type: 'pause' });
  }
  resume(): void {
    this.engine.send({ channel: 'sampling', type: 'resume' });
  }
  step(): void {
    this.engine.send({ channel: 'sampling', type: 'step' });
  }
  stop(): void {
    this.engine.send({ channel: 'sampling', type: 'stop' });
  }
  setSpeed(delayMs: number): void {
    this.engine.send({ channel: 'sampling', type: 'speed', delayMs });
  }
}
