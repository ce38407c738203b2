/**
 * What a model file says about itself besides its architecture and weights (tfjs'
 * userDefinedMetadata): free-form facts from the exporter, of which the page reads a few by name.
 * tfjs-free, so the page can use its types.
 */
export interface ModelMetadata {
  /** One line on what the model is ("Class-conditional DDPM on MNIST digits …"). */
  description?: string;
  /** A name per class, index = label (absent: '0', '1', …). */
  classes?: string[];
  /** Optimiser steps it was trained for (this page's exports). */
  trainedSteps?: number;
  /** How many pictures it learned from (this page's exports). */
  images?: number;
  /** The model it was fine-tuned from, in words. */
  finetunedFrom?: string;
  /** The sampling settings the page opens it on, measured best for it (the emoji model's playground.json; kept by its fine-tunes). */
  sampling?: SamplingHint;
  /** Anything else the exporter wrote (tools/torch/export.py: steps, batchSize, emaDecay, …), kept as is. */
  [fact: string]: unknown;
}

/** A model's own first sampling settings; the page applies those that fit it (a sampler it knows, a class it has). */
export interface SamplingHint {
  sampler?: string;
  steps?: number;
  guidance?: number;
  label?: number;
}

/** A sampling hint as data: an object whose fields, when present, have the types and ranges the page accepts; else null. */
export function parseSamplingHint(raw: unknown): SamplingHint | null {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return null;
  const h = raw as Record<string, unknown>;
  const ok = (key: string, valid: (v: unknown) => boolean) => !(key in h) || valid(h[key]);
  const integer = (min: number, max: number) => (v: unknown) => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
  const fits =
    ok('sampler', (v) => typeof v === 'string') &&
    ok('steps', integer(1, 1000)) &&
    ok('guidance', (v) => typeof v === 'number' && v >= 0 && v <= 20) &&
    ok('label', integer(0, 100_000));
  if (!fits) return null;
  const pick = ['sampler', 'steps', 'guidance', 'label'].filter((k) => k in h);
  return Object.fromEntries(pick.map((k) => [k, h[k]]));
}

/**
 * A file's metadata as data: an object or nothing (a file is never trusted to be well-formed); the
 * fields the page reads are dropped when they have the wrong type, so a bad file loses a label, not the page.
 */
export function parseModelMetadata(raw: unknown): ModelMetadata {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return {};
  const m = { ...(raw as Record<string, unknown>) };
  const drop = (key: string, ok: (v: unknown) => boolean) => {
    if (key in m && !ok(m[key])) delete m[key];
  };
  drop('description', (v) => typeof v === 'string');
  drop('classes', (v) => Array.isArray(v) && v.every((c) => typeof c === 'string'));
  drop('trainedSteps', (v) => Number.isInteger(v));
  drop('images', (v) => Number.isInteger(v));
  drop('finetunedFrom', (v) => typeof v === 'string');
  if ('sampling' in m) {
    const hint = parseSamplingHint(m.sampling);
    if (hint) m.sampling = hint;
    else delete m.sampling;
  }
  return m;
}

/** The name of each of `numClasses` classes: the metadata's when it names exactly that many, else '0', '1', …. */
export function classNames(metadata: ModelMetadata, numClasses: number): string[] {
  const named = metadata.classes;
  return named && named.length === numClasses ? named.slice() : Array.from({ length: numClasses }, (_, i) => String(i));
}
