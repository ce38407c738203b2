import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { DIGIT_PIXELS, firstPerClass, HELD_OUT_PER_CLASS, splitDigits } from '../../src/data/mnist-split';
import { loadMnist, MNIST_DIGITS_DIR } from '../../scripts/mnist';

/** Class d's digits, each filled with its own index i (so every digit is identifiable). */
const fake = (counts: number[]) =>
  counts.map((n) => Float32Array.from({ length: n * DIGIT_PIXELS }, (_, j) => Math.floor(j / DIGIT_PIXELS)));

describe('MNIST split (tools/torch/data.py)', () => {
  it('holds out the last 100 digits of every class, in class and file order', () => {
    const { train, heldOut } = splitDigits(fake([103, 150]));
    expect(train.labels).toEqual([0, 0, 0, ...new Array<number>(50).fill(1)]);
    expect(heldOut.labels).toEqual([...new Array<number>(100).fill(0), ...new Array<number>(100).fill(1)]);
    expect(train.images.map((x) => x[0])).toEqual([0, 1, 2, ...Array.from({ length: 50 }, (_, i) => i)]);
    expect(heldOut.images.map((x) => x[DIGIT_PIXELS - 1])).toEqual([
      ...Array.from({ length: 100 }, (_, i) => 3 + i),
      ...Array.from({ length: 100 }, (_, i) => 50 + i),
    ]);
    expect(heldOut.images.every((x) => x.length === DIGIT_PIXELS)).toBe(true);
  });

  it('rejects ragged data and classes too small to hold out from', () => {
    expect(() => splitDigits([new Float32Array(DIGIT_PIXELS * 101 + 1)])).toThrow(/whole number/);
    expect(() => splitDigits(fake([100]))).toThrow(/holds out 100/);
  });

  it('takes the first k of every class', () => {
    const { train } = splitDigits(fake([103, 150]));
    const subset = firstPerClass(train, 2);
    expect(subset.labels).toEqual([0, 0, 1, 1]);
    expect(subset.images.map((x) => x[0])).toEqual([0, 1, 0, 1]);
    expect(() => firstPerClass(train, 4)).toThrow(/only 3/);
  });

  it('splits the package digits 9,000 / 1,000, 100 held out per class, disjoint', async () => {
    const { train, heldOut } = await loadMnist();
    expect(train.images.length).toBe(9000);
    expect(heldOut.images.length).toBe(1000);
    for (let d = 0; d < 10; d++) expect(heldOut.labels.filter((l) => l === d).length).toBe(HELD_OUT_PER_CLASS);
    // class 0's file: its last 100 digits are the held-out 0s, the ones before are the training 0s
    const zeros = (JSON.parse(await readFile(`${MNIST_DIGITS_DIR}/0.json`, 'utf8')) as { data: number[] }).data;
    const count = zeros.length / DIGIT_PIXELS;
    const digit = (i: number) => Float32Array.from(zeros.slice(i * DIGIT_PIXELS, (i + 1) * DIGIT_PIXELS));
    expect(train.labels.filter((l) => l === 0).length).toBe(count - HELD_OUT_PER_CLASS);
    expect(heldOut.images[0]).toEqual(digit(count - HELD_OUT_PER_CLASS));
    expect(train.images[count - HELD_OUT_PER_CLASS - 1]).toEqual(digit(count - HELD_OUT_PER_CLASS - 1));
    // no held-out digit appears in the training set
    const key = (x: Float32Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('base64');
    const trainKeys = new Set(train.images.map(key));
    expect(heldOut.images.filter((x) => trainKeys.has(key(x))).length).toBe(0);
  });
});
