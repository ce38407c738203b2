import { DATASET_LIMITS, fingerprint, folderLabel, ImageDataset, type DataOptions, type ImageItem } from './dataset';
import { decodeImageFile } from './decode';

export type { DataOptions } from './dataset';

/** A file to add, with its path below what was dropped or picked (sub-folders name classes). */
export interface DataFile {
  file: File;
  path: string;
}

/** The first images of the set, for the page's preview grid. */
export const PREVIEW_IMAGES = 48;

/** What the training set holds now, and what was left out and why. */
export interface DataSummary {
  options: DataOptions;
  count: number;
  classNames: string[];
  /** Images per class ('' = unlabelled). */
  counts: Record<string, number>;
  /** Files that could not be used, each with the reason. */
  rejected: { name: string; reason: string }[];
  /** Files beyond the cap that were not read. */
  overCap: number;
  /** The first images (up to PREVIEW_IMAGES) in [−1, 1], for the preview grid. */
  preview: { values: Float32Array; batch: number; size: number; channels: number };
}

/**
 * Building a training set from the files a person drops: decoding at the chosen size and colour,
 * duplicates and unreadable files left out with a reason, a cap on the count, and decoding again
 * when the size or colour changes. The files are kept for that; a set restored from a saved run has
 * only its decoded images.
 */
export class DataCollection {
  options: DataOptions = { size: 28, channels: 1, fit: 'crop' };
  dataset = new ImageDataset(this.options);
  /** The accepted files, kept to decode again when the size or colour changes. */
  private files: DataFile[] = [];
  private readonly seen = new Map<string, string>();
  private rejected: { name: string; reason: string }[] = [];
  private overCap = 0;

  /** Adds files up to the cap; `onProgress(done, total)` after each decoded file (awaited: the caller may yield there). */
  async add(files: DataFile[], onProgress?: (done: number, total: number) => Promise<void> | void): Promise<void> {
    const room = Math.max(0, DATASET_LIMITS.maxImages - this.dataset.items.length);
    const take = files.slice(0, room);
    this.overCap += files.length - take.length;
    await this.decodeAll(take, true, onProgress);
  }

  /** Decodes every kept file again for new options. */
  async setOptions(options: DataOptions, onProgress?: (done: number, total: number) => Promise<void> | void): Promise<void> {
    if (this.files.length === 0 && this.dataset.items.length > 0)
      throw new Error(
        `this data set was restored from a saved run at ${this.options.size}×${this.options.size}; add the files again to change its size or colour`,
      );
    this.options = options;
    this.dataset = new ImageDataset(options);
    const files = this.files;
    this.files = [];
    await this.decodeAll(files, false, onProgress);
  }

  /** An empty set with these options (the current ones by default), forgetting files, duplicates and rejections. */
  clear(options: DataOptions = this.options): void {
    this.options = options;
    this.dataset = new ImageDataset(options);
    this.files = [];
    this.seen.clear();
    this.rejected = [];
    this.overCap = 0;
  }

  /** The set saved with a training run (decoded images, no files). */
  restore(options: DataOptions, items: ImageItem[]): void {
    this.clear(options);
    for (const item of items) this.dataset.add(item);
  }

  private async decodeAll(
    files: DataFile[],
    checkDuplicates: boolean,
    onProgress?: (done: number, total: number) => Promise<void> | void,
  ): Promise<void> {
    for (let i = 0; i < files.length; i++) {
      const f = files[i];
      try {
        let key: string | null = null;
        if (checkDuplicates && f.file.size <= DATASET_LIMITS.maxFileBytes) {
          key = fingerprint(new Uint8Array(await f.file.arrayBuffer()));
          const first = this.seen.get(key);
          if (first !== undefined) throw new Error(`a duplicate of ${first}; it is used once`);
        }
        const pixels = await decodeImageFile(f.file, this.options);
        this.dataset.add({ name: f.path, label: folderLabel(f.path), pixels });
        this.files.push(f);
        // only a file that made it in is remembered: one that failed may be offered again
        if (key !== null) this.seen.set(key, f.path);
      } catch (e) {
        this.rejected.push({ name: f.path, reason: e instanceof Error ? e.message : String(e) });
      }
      await onProgress?.(i + 1, files.length);
    }
  }

  summary(): DataSummary {
    const { size, channels } = this.options;
    const items = this.dataset.items;
    const n = Math.min(PREVIEW_IMAGES, items.length);
    const per = size * size * channels;
    const values = new Float32Array(n * per);
    for (let i = 0; i < n; i++)
      values.set(
        Float32Array.from(items[i].pixels, (v) => (v / 255) * 2 - 1),
        i * per,
      );
    return {
      options: this.options,
      count: items.length,
      classNames: this.dataset.classNames,
      counts: this.dataset.counts(),
      rejected: this.rejected.slice(),
      overCap: this.overCap,
      preview: { values, batch: n, size, channels },
    };
  }
}
