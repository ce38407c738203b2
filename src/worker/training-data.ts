import { DataCollection, type DataFile, type DataOptions } from '../data/collection';
import type { ImageDataset } from '../data/dataset';
import { yieldToEvents } from '../engine/yield';
import type { ImageItem } from '../data/dataset';
import type { TrainingImages } from './model-registry';
import type { Post } from './service';

const PROGRESS_INTERVAL_MS = 100;

/**
 * The person's training pictures in the worker: decoded here, off the main thread, with decoding
 * progress and a summary (counts, preview) for the page on the 'training' channel. Changes run one
 * at a time, in the order asked: a size or colour chosen during an upload applies to every file of
 * it, once it is in (decoding yields, and the two would otherwise interleave).
 */
export class TrainingData {
  private readonly collection = new DataCollection();
  /** The change under way (or the last one): the next waits for it. */
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly post: Post<'training'>) {}

  get dataset(): ImageDataset {
    return this.collection.dataset;
  }

  get options(): DataOptions {
    return this.collection.options;
  }

  add(files: DataFile[]): Promise<void> {
    return this.serial(() => this.collection.add(files, this.progress()));
  }

  setOptions(options: DataOptions): Promise<void> {
    return this.serial(() => this.collection.setOptions(options, this.progress()));
  }

  clear(): Promise<void> {
    return this.serial(() => this.collection.clear());
  }

  /** Captions on (a text model) or off. */
  setCaptioned(on: boolean): Promise<void> {
    return this.serial(() => this.collection.setCaptioned(on));
  }

  get captioned(): boolean {
    return this.collection.captioned;
  }

  /** Replaces the data with an example set's images (they cannot be decoded at another size: `fixed` says so). */
  useExample(options: DataOptions, items: ImageItem[], fixed: string): Promise<void> {
    return this.serial(() => this.collection.replace(options, items, fixed));
  }

  /** A saved run's data set, as it was (captioned when its model is a text model). */
  restore(options: DataOptions, items: ImageItem[], captioned: boolean): Promise<void> {
    return this.serial(() => {
      this.collection.restore(options, items);
      this.collection.setCaptioned(captioned);
    });
  }

  /** Resolves when every change asked for so far is in (a run starts on the set as the page shows it). */
  settled(): Promise<void> {
    return this.queue;
  }

  /** Runs a change after the ones asked for before it, then sends the summary (a failed change fails alone). */
  private serial(change: () => Promise<void> | void): Promise<void> {
    const done = this.queue.then(async () => {
      await change();
      this.postSummary();
    });
    this.queue = done.catch(() => undefined);
    return done;
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
