import { access } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { fileHandler } from './node-io';

/** Where the eval's digit classifier (src/eval/classifier.ts) is kept: served with the app as the page's meter. */
export const CLASSIFIER_DIR = 'public/models/digit-classifier';

/** Saves with tfjs's own model.save to DIR/model.json + DIR/weights.bin, `metadata` in userDefinedMetadata. */
export async function saveClassifier(model: tf.LayersModel, dir: string, metadata: Record<string, unknown>): Promise<void> {
  model.setUserDefinedMetadata(metadata);
  await model.save(fileHandler(dir));
}

/** The classifier saved in DIR, or null when there is none. */
export async function loadClassifier(dir: string): Promise<tf.LayersModel | null> {
  const path = join(dir, 'model.json');
  try {
    await access(path);
  } catch {
    return null;
  }
  return tf.loadLayersModel(fileHandler(path));
}
