import { buildVocabulary } from '../text/tokenizer';
import { assignCaptions, isCaptionsFile, MAX_CAPTION_WORDS, type CaptionsText } from './captions';
import { DATASET_LIMITS, fingerprint, folderLabel, ImageDataset, type DataOptions, type ImageItem } from './dataset';
import { decodePicture, type PictureFacts } from './decode';
import { pictureNote, suggestOptions } from './suggest';

export type { DataOptions } from './dataset';

/** A file to add, with its path below what was dropped or picked (sub-folders name classes). */
export interface DataFile {
  file: File;
  path: string;
}

/** The images of the set the page's preview shows at most: the first ones, or the first of every class. */
export const PREVIEW_IMAGES = 48;

/**
 * Which images the preview shows: with classes, the first of every class (and of the unlabelled),
 * an equal share each, so no class is left out of it; else the first PREVIEW_IMAGES.
 */
export function previewIndices(labels: (string | null)[], classNames: string[]): number[] {
  if (classNames.length === 0) return labels.slice(0, PREVIEW_IMAGES).map((_, i) => i);
  // a group per class, in classNames' order, then the unlabelled (and labels of no class)
  const groups: number[][] = Array.from({ length: classNames.length + 1 }, () => []);
  labels.forEach((l, i) => groups[l !== null && classNames.includes(l) ? classNames.indexOf(l) : classNames.length].push(i));
  const filled = groups.filter((g) => g.length > 0);
  const share = Math.max(1, Math.floor(PREVIEW_IMAGES / filled.length));
  return filled.flatMap((g) => g.slice(0, share)).slice(0, PREVIEW_IMAGES);
}

/** A captioned set's captions, as the page shows them. */
export interface CaptionSummary {
  /** Where the captions come from, in words: the captions files' names, 'the file names', or 'the set itself' (an example, a saved run). */
  source: string;
  /** The caption of each preview image, in order ('' = none: the empty prompt). */
  preview: string[];
  /** Distinct words over all captions: the vocabulary a text model trained on them knows. */
  words: number;
  /** Words a caption may have (MAX_CAPTION_WORDS). */
  maxWords: number;
  /** Bad captions, each naming the file, line or picture (data/captions.ts). */
  problems: string[];
}

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
  /** The images previewIndices picks, in [−1, 1], for the preview. */
  preview: { values: Float32Array; batch: number; size: number; channels: number };
  /** The class of each preview image ('' = unlabelled), when the set has classes; else []. */
  previewClasses: string[];
  /** The captions, when the set trains a text model (null: classes, or unconditional). */
  captions: CaptionSummary | null;
  /** Why the size and colour are what they are, when the pictures chose them (null once the person has). */
  suggestion: string | null;
  /** Pictures kept that lose much in the fitting (tiny, or long and thin), each with what happens to it. */
  notes: { name: string; note: string }[];
}

/**
 * Building a training set from the files a person drops: decoding at the chosen size and colour,
 * duplicates and unreadable files left out with a reason, a cap on the count, and decoding again
 * when the size or colour changes. The files are kept for that; a set restored from a saved run, or
 * an example set, has only its images (and their captions). A captioned set trains a text model: its
 * captions come from captions files dropped with the pictures or from the file names (captions.ts),
 * worked out again whenever pictures or captions files come or go.
 */
export class DataCollection {
  options: DataOptions = { size: 28, channels: 1, fit: 'crop' };
  dataset = new ImageDataset(this.options);
  /** The accepted files, kept to decode again when the size or colour changes, and what each picture is. */
  private files: DataFile[] = [];
  private facts: PictureFacts[] = [];
  /** The person chose the size and colour (until then the first pictures choose them), and why the pictures chose what they did. */
  private chosen = false;
  private suggestion: string | null = null;
  private readonly seen = new Map<string, string>();
  private rejected: { name: string; reason: string }[] = [];
  private overCap = 0;
  /** The captions files dropped so far (one per path: a newer one replaces it). */
  private captionFiles: CaptionsText[] = [];
  private captionProblems: string[] = [];
  /** Captions train a text model (a captions file turns them on; the person may turn them on or off). */
  captioned = false;
  /** Why the images cannot be decoded again (restored or example images: no files), or null. */
  private fixed: string | null = null;
  /** Images that came with their caption (restored or example images): captions files and names leave them alone. */
  private readonly given = new Set<ImageItem>();

  /** Adds files up to the cap; `onProgress(done, total)` after each decoded file (awaited: the caller may yield there). */
  async add(files: DataFile[], onProgress?: (done: number, total: number) => Promise<void> | void): Promise<void> {
    for (const f of files.filter((f) => isCaptionsFile(f.path))) await this.addCaptions(f);
    const pictures = files.filter((f) => !isCaptionsFile(f.path));
    const room = Math.max(0, DATASET_LIMITS.maxImages - this.dataset.items.length);
    const take = pictures.slice(0, room);
    this.overCap += pictures.length - take.length;
    const first = this.dataset.items.length === 0 && !this.chosen && !this.fixed;
    await this.decodeAll(take, true, onProgress);
    // the first pictures of a set choose its size and colour (issue 26, item 2), until the person does
    if (first && this.facts.length) {
      const { options, reason } = suggestOptions(this.facts, this.options.fit);
      this.suggestion = reason;
      if (options.size !== this.options.size || options.channels !== this.options.channels) await this.redecode(options, onProgress);
    }
    this.recaption();
  }

  /** Reads a captions file (it turns captions on); a bad one is a rejected file, the pictures stay. */
  private async addCaptions(f: DataFile): Promise<void> {
    if (f.file.size > DATASET_LIMITS.maxFileBytes) {
      this.rejected.push({
        name: f.path,
        reason: `the captions file is ${(f.file.size / 2 ** 20).toFixed(0)} MB; the limit is ${DATASET_LIMITS.maxFileBytes / 2 ** 20} MB`,
      });
      return;
    }
    this.captionFiles = [...this.captionFiles.filter((c) => c.path !== f.path), { path: f.path, text: await f.file.text() }];
    this.captioned = true;
  }

  /** Trains on captions (a text model) or not (classes from folders, or unconditional). */
  setCaptioned(on: boolean): void {
    this.captioned = on;
    this.recaption();
  }

  /** Each picture's caption from the captions files or its name (images that came with one keep it). */
  private recaption(): void {
    const decoded = this.dataset.items.filter((i) => !this.given.has(i));
    if (!this.captioned) {
      for (const item of decoded) delete item.caption;
      this.captionProblems = [];
      return;
    }
    const { captions, problems } = assignCaptions(
      decoded.map((i) => i.name),
      this.captionFiles,
    );
    decoded.forEach((item, i) => (item.caption = captions[i]));
    this.captionProblems = problems;
  }

  /** The person's size and colour: every kept file decoded again for them. */
  async setOptions(options: DataOptions, onProgress?: (done: number, total: number) => Promise<void> | void): Promise<void> {
    if (this.fixed) throw new Error(this.fixed);
    this.chosen = true;
    this.suggestion = null;
    await this.redecode(options, onProgress);
    this.recaption();
  }

  private async redecode(options: DataOptions, onProgress?: (done: number, total: number) => Promise<void> | void): Promise<void> {
    this.options = options;
    this.dataset = new ImageDataset(options);
    const files = this.files;
    this.files = [];
    this.facts = [];
    await this.decodeAll(files, false, onProgress);
  }

  /** An empty set with these options (the current ones by default), forgetting files, duplicates and rejections. */
  clear(options: DataOptions = this.options): void {
    this.options = options;
    this.dataset = new ImageDataset(options);
    this.files = [];
    this.facts = [];
    this.chosen = false;
    this.suggestion = null;
    this.seen.clear();
    this.rejected = [];
    this.overCap = 0;
    this.captionFiles = [];
    this.captionProblems = [];
    this.captioned = false;
    this.fixed = null;
    this.given.clear();
  }

  /** The set saved with a training run (decoded images with their captions, no files). */
  restore(options: DataOptions, items: ImageItem[]): void {
    this.replace(
      options,
      items,
      `this data set was restored from a saved run at ${options.size}×${options.size}; clear it and add the files again to change its size or colour`,
    );
  }

  /** A set of images without files (an example set, a saved one), captioned when they have captions; `fixed` says why it cannot change size. */
  replace(options: DataOptions, items: ImageItem[], fixed: string): void {
    this.clear(options);
    for (const item of items) this.dataset.add(item);
    for (const item of items) if (item.caption !== undefined) this.given.add(item);
    this.captioned = this.given.size > 0;
    this.fixed = items.length ? fixed : null;
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
        const { pixels, ...facts } = await decodePicture(f.file, this.options);
        this.dataset.add({ name: f.path, label: folderLabel(f.path), pixels });
        this.files.push(f);
        this.facts.push(facts);
        // only a file that made it in is remembered: one that failed may be offered again
        if (key !== null) this.seen.set(key, f.path);
      } catch (e) {
        this.rejected.push({ name: f.path, reason: e instanceof Error ? e.message : String(e) });
      }
      await onProgress?.(i + 1, files.length);
    }
  }

  private captionSource(): string {
    const own = this.given.size ? ['the set itself'] : [];
    const derived = this.given.size < this.dataset.items.length || this.given.size === 0;
    const files = this.captionFiles.length ? this.captionFiles.map((c) => c.path) : ['the file names'];
    return [...own, ...(derived ? files : [])].join(' and ');
  }

  summary(): DataSummary {
    const { size, channels } = this.options;
    const items = this.dataset.items;
    const classNames = this.dataset.classNames;
    const shown = previewIndices(
      items.map((i) => i.label),
      classNames,
    ).map((i) => items[i]);
    const n = shown.length;
    const per = size * size * channels;
    const values = new Float32Array(n * per);
    for (let i = 0; i < n; i++)
      values.set(
        Float32Array.from(shown[i].pixels, (v) => (v / 255) * 2 - 1),
        i * per,
      );
    return {
      options: this.options,
      count: items.length,
      classNames,
      counts: this.dataset.counts(),
      rejected: this.rejected.slice(),
      overCap: this.overCap,
      preview: { values, batch: n, size, channels },
      previewClasses: classNames.length ? shown.map((i) => (i.label !== null && classNames.includes(i.label) ? i.label : '')) : [],
      suggestion: this.suggestion,
      notes: this.files.flatMap((f, i) => {
        const note = pictureNote(this.facts[i], this.options);
        return note ? [{ name: f.path, note }] : [];
      }),
      captions: this.captioned
        ? {
            source: this.captionSource(),
            preview: shown.map((i) => i.caption ?? ''),
            // the vocabulary less its two special tokens, <pad> and <start>
            words: buildVocabulary(items.map((i) => i.caption ?? '')).length - 2,
            maxWords: MAX_CAPTION_WORDS,
            problems: this.captionProblems.slice(),
          }
        : null,
    };
  }
}
