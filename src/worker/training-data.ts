import { DataCollection, type DataFile, type DataOptions } from '../data/collection';
import type { ImageDataset } from '../data/dataset';
import { yieldToEvents } from '../engine/yield';
import type { ImageItem } from '../data/dataset';
import type { TrainingImages } from './model-registry';
import type { Post } from './service';

const PROGRESS_INTERVAL_MS = 100;

/**
 * The person's training pictures in the worker: decoded here, off the main thread, with decoding
 * progress and a summary (counts, preview) for the page on the 'training' channel.
 */
export class TrainingData {
  private readonly collection = new DataCollection();

  constructor(private readonly post: Post<'training'>) {}

  get dataset(): ImageDataset {
    return this.collection.dataset;
  }

  get options(): DataOptions {
    return this.collection.options;
  }

  async add(files: DataFile[]): Promise<void> {
    await this.collection.add(files, this.progress());
    this.postSummary();
  }

  async setOptions(options: DataOptions): Promise<void> {
    await this.collection.setOptions(options, this.progress());
    this.postSummary();
  }

  clear(): void {
    this.collection.clear();
    this.postSummary();
  }

  /** Captions on (a text model) or off. */
  setCaptioned(on: boolean): void {
    this.collection.setCaptioned(on);
    this.postSummary();
  }

  get captioned(): boolean {
    return this.collection.captioned;
  }

  /** Replaces the data with an example set's images (they cannot be decoded at another size: `fixed` says so). */
  useExample(options: DataOptions, items: ImageItem[], fixed: string): void {
    this.collection.replace(options, items, fixed);
    this.postSummary();
  }

  /** A saved run's data set, as it was (captioned when its model is a text model). */
  restore(options: DataOptions, items: ImageItem[], captioned: boolean): void {
    this.collection.restore(options, items);
    this.collection.setCaptioned(captioned);
    this.postSummary();
  }

  /** The images as the memorisation check reads them (the list copied: later additions are not trained on). */
  trainingImages(): TrainingImages {
    const dataset = this.collection.dataset;
    return { kind: 'uploads', items: dataset.items.slice(), size: dataset.size, channels: dataset.channels };
  }

  private postSummary(): void {
    const summary = this.collection.summary();
    this.post({ channel: 'training', type: 'data', summary }, [summary.preview.values.buffer]);
  }

  /** Posts decoding progress at most every PROGRESS_INTERVAL_MS, yielding so messages get through. */
  private progress(): (done: number, total: number) => Promise<void> {
    let lastPost = 0;
    return async (done, total) => {
      if (performance.now() - lastPost < PROGRESS_INTERVAL_MS && done < total) return;
      lastPost = performance.now();
      this.post({ channel: 'training', type: 'dataProgress', done, total });
      await yieldToEvents();
    };
  }
}
