import type { DiffusionConfig } from '../diffusion/scheduler';
import { DEFAULT_UNET_CONFIG } from '../model/config';
import { loadModel } from '../model/io';
import { MODEL_FILE_EXTENSION, modelFromFiles, modelToFile } from '../model/model-file';
import { UNet } from '../model/model';
import type { TrainingImages } from './memorisation';
import type { ModelInfo, ModelsEvent } from './protocol';

/** A model the worker holds, with how it was trained and where it came from. */
export interface HeldModel {
  model: UNet;
  diffusion: DiffusionConfig;
  metadata: Record<string, unknown>;
  source: ModelInfo['source'];
  /** The images it learned from, for the memorisation check (none for an imported file). */
  trainedOn?: TrainingImages;
}

export const info = (m: HeldModel): ModelInfo => ({ config: m.model.config, diffusion: m.diffusion, metadata: m.metadata, source: m.source, numParams: m.model.numParams });

/**
 * The one owner of the models in the worker: the shipped one (kept for the page's lifetime, also to
 * fine-tune), and the one the panels run on — the shipped one, a trained snapshot or an imported
 * file. Every change is announced ('models/active') and handed to the services that depend on it.
 */
export class ModelRegistry {
  private shippedModel: HeldModel | null = null;
  private activeModel: HeldModel | null = null;
  /** Called when the active model changes (the sampler stops, the GPU warm-up compiles its shapes). */
  readonly onActivate = new Set<(m: HeldModel) => void>();

  constructor(private readonly post: (m: ModelsEvent, transfer?: Transferable[]) => void) {}

  /** Loads the shipped model; until one is there, an untrained stand-in (it draws noise, not digits) and a warning. */
  async loadShipped(url: string, trainDigitsUrl?: string): Promise<string | undefined> {
    let warning: string | undefined;
    try {
      const loaded = await loadModel(url);
      this.shippedModel = { ...loaded, source: 'shipped', ...(trainDigitsUrl ? { trainedOn: { kind: 'shipped', url: trainDigitsUrl } } : {}) };
    } catch (e) {
      this.shippedModel = { model: UNet.create(DEFAULT_UNET_CONFIG, 0), diffusion: { numTrainTimesteps: 1000, betaSchedule: 'linear', predictionType: 'epsilon' }, metadata: {}, source: 'random' };
      warning = `The shipped model could not be loaded (${e instanceof Error ? e.message : String(e)}); using an untrained model.`;
    }
    this.activate(null);
    return warning;
  }

  get shipped(): HeldModel {
    if (!this.shippedModel) throw new Error('the engine is not initialised yet');
    return this.shippedModel;
  }

  get active(): HeldModel {
    if (!this.activeModel) throw new Error('the engine is not initialised yet');
    return this.activeModel;
  }

  /** The shipped model's class names (its metadata's, else '0', '1', …). */
  shippedClasses(): string[] {
    const { metadata, model } = this.shipped;
    return (metadata.classes as string[] | undefined) ?? Array.from({ length: model.config.numClasses }, (_, i) => String(i));
  }

  /** Makes the panels run on `next` (the registry takes ownership), or on the shipped model again with null. */
  activate(next: HeldModel | null): void {
    const previous = this.activeModel;
    this.activeModel = next ?? this.shipped;
    if (previous && previous !== this.shippedModel && previous !== this.activeModel) previous.model.dispose();
    this.post({ channel: 'models', type: 'active', model: info(this.activeModel) });
    for (const listener of this.onActivate) listener(this.activeModel);
  }

  /** Reads a .ddpm file (or model.json + weights) and makes it the active model. */
  async import(files: File[]): Promise<void> {
    const loaded = await modelFromFiles(files);
    this.activate({ ...loaded, source: 'imported' });
  }

  /** Sends `held` to the page as a .ddpm file (and frees it: it is a snapshot made for the export). */
  async export(held: HeldModel, name: string): Promise<void> {
    try {
      const data = await (await modelToFile(held.model, held.diffusion, held.metadata)).arrayBuffer();
      this.post({ channel: 'models', type: 'file', data, name: `${name}${MODEL_FILE_EXTENSION}` }, [data]);
    } finally {
      held.model.dispose();
    }
  }
}
