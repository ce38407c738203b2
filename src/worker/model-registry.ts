import { DEFAULT_DIFFUSION, type DiffusionConfig } from '../diffusion/scheduler';
import { DEFAULT_UNET_CONFIG } from '../model/config';
import { loadModel } from '../model/io';
import { classNames, type ModelMetadata } from '../model/metadata';
import { drawsUnlabelled } from '../model/plans';
import { UNet } from '../model/model';
import { priorFor } from '../training/recipe';
import { loadShippedModel } from './shipped-folder';
import type { ImageItem } from '../data/dataset';
import type { ModelInfo } from '../protocol';
import type { Post } from './service';

/** The images a model learned from, as the memorisation check compares against. */
export type TrainingImages =
  /** The shipped model's training digits (public/data/train-digits.*), fetched on the first check. */
  | { kind: 'shipped'; url: string }
  /** The person's pictures a model was trained on in this page. */
  | { kind: 'uploads'; items: readonly ImageItem[]; size: number; channels: number };

/** A model the worker holds, with how it was trained and where it came from. */
export interface HeldModel {
  model: UNet;
  diffusion: DiffusionConfig;
  metadata: ModelMetadata;
  source: ModelInfo['source'];
  /** The images it learned from, for the memorisation check (none for an imported file). */
  trainedOn?: TrainingImages;
}

export const info = (m: HeldModel): ModelInfo => ({
  config: m.model.config,
  diffusion: m.diffusion,
  metadata: m.metadata,
  classes: classNames(m.metadata, m.model.config.numClasses),
  unlabelled: drawsUnlabelled(m.model.config),
  source: m.source,
  numParams: m.model.numParams,
});

/**
 * The one owner of the models in the worker: the shipped one (kept for the page's lifetime, also to
 * fine-tune), the one the panels run on — the shipped one, a trained snapshot or an imported file —
 * and whether a trained one exists. Every change is announced on the 'models' channel and handed to
 * the services that depend on it (`onActivate`).
 */
export class ModelRegistry {
  private shippedModel: HeldModel | null = null;
  private activeModel: HeldModel | null = null;
  /** The shipped colour model's folder, and the model once it was asked for (kept to fine-tune). */
  private colourPriorUrl: string | null = null;
  private colourPriorModel: Promise<HeldModel> | null = null;
  /** Called when the active model changes (the sampler stops, the GPU warm-up compiles its shapes). */
  readonly onActivate = new Set<(m: HeldModel) => void>();

  constructor(private readonly post: Post<'models'>) {}

  /** Loads the shipped model; until one is there, an untrained stand-in (it draws noise, not digits) and a warning. */
  async loadShipped(url: string, trainDigitsUrl?: string): Promise<string | undefined> {
    let warning: string | undefined;
    try {
      const loaded = await loadModel(url);
      this.shippedModel = {
        ...loaded,
        source: 'shipped',
        ...(trainDigitsUrl ? { trainedOn: { kind: 'shipped', url: trainDigitsUrl } } : {}),
      };
    } catch (e) {
      this.shippedModel = { model: UNet.create(DEFAULT_UNET_CONFIG, 0), diffusion: DEFAULT_DIFFUSION, metadata: {}, source: 'random' };
      warning = `The shipped model could not be loaded (${e instanceof Error ? e.message : String(e)}); using an untrained model.`;
    }
    this.activate(null);
    return warning;
  }

  /** Where the shipped colour model (a diffusers folder) lies; it loads when first asked for. */
  locateColourPrior(url: string): void {
    this.colourPriorUrl = url;
  }

  /**
   * The shipped model that pictures of this size and colour fine-tune (recipe.ts's priorFor), or
   * null when none fits: the digits model, or the emoji model (loaded on the first call, then kept).
   */
  async priorFor(size: number, channels: number): Promise<HeldModel | null> {
    const prior = priorFor(size, channels);
    if (prior === 'digits') return this.shipped;
    if (prior !== 'emoji' || this.colourPriorUrl === null) return null;
    const url = this.colourPriorUrl;
    this.colourPriorModel ??= loadShippedModel(url).then(
      (loaded) => ({ ...loaded, source: 'example' as const }),
      (e: unknown) => {
        this.colourPriorModel = null; // a later start tries again
        throw e;
      },
    );
    const held = await this.colourPriorModel;
    const c = held.model.config;
    if (c.imageSize !== size || c.inChannels !== channels)
      throw new Error(`the shipped emoji model is ${c.imageSize}×${c.imageSize} with ${c.inChannels} channels, not ${size}×${size} colour`);
    return held;
  }

  get shipped(): HeldModel {
    if (!this.shippedModel) throw new Error('the engine is not initialised yet');
    return this.shippedModel;
  }

  get active(): HeldModel {
    if (!this.activeModel) throw new Error('the engine is not initialised yet');
    return this.activeModel;
  }

  /** Makes the panels run on `next` (the registry takes ownership), or on the shipped model again with null. */
  activate(next: HeldModel | null): void {
    const previous = this.activeModel;
    this.activeModel = next ?? this.shipped;
    if (previous && previous !== this.shippedModel && previous !== this.activeModel) previous.model.dispose();
    this.post({ channel: 'models', type: 'active', model: info(this.activeModel) });
    for (const listener of this.onActivate) listener(this.activeModel);
  }

  /**
   * Says whether a trained model exists (a training run, or one saved in this browser) to use or
   * export, and whether it is a UNet2DModel (fine-tuned from the emoji model), which also exports as a diffusers folder.
   */
  announceTrained(available: boolean, diffusers = false): void {
    this.post({ channel: 'models', type: 'trained', available, diffusers: available && diffusers });
  }
}

/** Where the trained model comes from (the training service): its EMA weights as a model of their own. */
export interface TrainedModels {
  snapshot(): Promise<HeldModel>;
  /** The file name an export of the snapshot gets (without extension). */
  exportName(held: HeldModel): string;
}
