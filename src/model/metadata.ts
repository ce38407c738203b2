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
  /** Anything else the exporter wrote (tools/torch/export.py: steps, batchSize, emaDecay, …), kept as is. */
  [fact: string]: unknown;
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
  return m;
}

/** The name of each of `numClasses` classes: the metadata's when it names exactly that many, else '0', '1', …. */
export function classNames(metadata: ModelMetadata, numClasses: number): string[] {
  const named = metadata.classes;
  return named && named.length === numClasses ? named.slice() : Array.from({ length: numClasses }, (_, i) => String(i));
}
