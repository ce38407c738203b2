import type { GaussianRng } from '../diffusion/random';

/**
 * A person's own training set: small decoded images (bytes, NHWC) with optional class labels taken
 * from sub-folder names. Pure data, no browser APIs, so the same code runs in the worker and in Node.
 */
export const DATASET_LIMITS = {
  /** More images than this would not train in a browser session anyway; the rest are skipped with a note. */
  maxImages: 5000,
  /** A single file above this is refused before it is read. */
  maxFileBytes: 50 * 1024 * 1024,
  /** Decoding needs width·height·4 bytes: 40 MP is 160 MB, already a lot for a tab. */
  maxPixels: 40_000_000,
};

export interface DataOptions {
  /** Side of the square images (the page offers 16, 28, 32 and 64: the U-Net's sizes). */
  size: number;
  channels: 1 | 3;
  /** 'crop': the centred square; 'pad': the whole picture, letterboxed on black. */
  fit: 'crop' | 'pad';
}

export interface ImageItem {
  name: string;
  /** Class name (the sub-folder), or null. */
  label: string | null;
  /** size·size·channels bytes. */
  pixels: Uint8Array;
  /** Its caption, when the set is captioned (data/captions.ts; '' = no words: the empty prompt). */
  caption?: string;
}

/**
 * The class of a file from its path relative to what was dropped or picked ("pets/cats/a.png" →
 * "cats"): its parent folder, or null for a file given on its own.
 */
export function folderLabel(path: string): string | null {
  const parts = path.split('/').filter(Boolean);
  return parts.length >= 2 ? parts[parts.length - 2] : null;
}

/** A content fingerprint for spotting duplicates: two 32-bit FNV-1a hashes (different seeds) and the length. */
export function fingerprint(bytes: Uint8Array): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < bytes.length; i++) {
    a = Math.imul(a ^ bytes[i], 0x01000193);
    b = Math.imul(b ^ bytes[i], 0x5bd1e995);
  }
  return `${(a >>> 0).toString(16)}-${(b >>> 0).toString(16)}-${bytes.length}`;
}

export class ImageDataset {
  readonly items: ImageItem[] = [];

  constructor(readonly options: DataOptions) {}

  get size(): number {
    return this.options.size;
  }
  get channels(): number {
    return this.options.channels;
  }

  add(item: ImageItem): void {
    const n = this.size * this.size * this.channels;
    if (item.pixels.length !== n) throw new RangeError(`an image needs ${n} bytes, got ${item.pixels.length}`);
    this.items.push(item);
  }

  /**
   * Class names in sorted order when at least two sub-folders were given — a class-conditional data
   * set — else [] (unconditional: one folder, or loose files).
   */
  get classNames(): string[] {
    const names = [...new Set(this.items.map((i) => i.label).filter((l): l is string => l !== null))].sort();
    return names.length >= 2 ? names : [];
  }

  /** The class index of each image (null: no label), in classNames order. */
  labelIndices(): (number | null)[] {
    const names = this.classNames;
    return this.items.map((i) => (i.label === null ? null : names.indexOf(i.label) >= 0 ? names.indexOf(i.label) : null));
  }

  /** Images per class name (and '' for unlabelled). */
  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    const names = this.classNames;
    for (const i of this.items) {
      const k = names.length && i.label !== null ? i.label : '';
      out[k] = (out[k] ?? 0) + 1;
    }
    return out;
  }

  /**
   * A random training batch in [−1, 1] (with replacement), optionally mirrored left–right at random.
   * Labels: the class index, or `noLabel` for unlabelled images; captions: each image's ('' for none).
   */
  batch(
    rng: GaussianRng,
    batchSize: number,
    flip: boolean,
    noLabel: number,
  ): { values: Float32Array; labels: number[]; captions: string[] } {
    if (this.items.length === 0) throw new RangeError('the data set is empty');
    const { size, channels } = this;
    const per = size * size * channels;
    const values = new Float32Array(batchSize * per);
    const indices = this.labelIndices();
    const labels: number[] = [];
    const captions: string[] = [];
    for (let b = 0; b < batchSize; b++) {
      const k = Math.min(this.items.length - 1, Math.floor(rng.uniform() * this.items.length));
      const px = this.items[k].pixels;
      const mirror = flip && rng.uniform() < 0.5;
      const out = b * per;
      for (let y = 0; y < size; y++)
        for (let x = 0; x < size; x++) {
          const src = (y * size + (mirror ? size - 1 - x : x)) * channels;
          const dst = out + (y * size + x) * channels;
          for (let c = 0; c < channels; c++) values[dst + c] = (px[src + c] / 255) * 2 - 1;
        }
      labels.push(indices[k] ?? noLabel);
      captions.push(this.items[k].caption ?? '');
    }
    return { values, labels, captions };
  }
}
