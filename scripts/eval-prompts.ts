import type * as tf from '@tensorflow/tfjs';
import { compose, PLACES, readLayout, toMnistFrame, type Layout } from '../src/data/captioned-digits';
import type { LabelledDigits } from '../src/data/mnist-split';
import { SeededNormal } from '../src/diffusion/seeded-normal';
import { classify } from '../src/eval/classifier';

/**
 * Prompt adherence, the text model's eval: a fixed set of prompts — every digit, small in each of
 * the five places and large in the centre (60) — and for each sample whether its digit (the digit
 * classifier on the ink's bounding box, framed as MNIST), its size and its place (read from the
 * ink as the data set defines them, src/data/captioned-digits.ts) are the prompt's.
 */
export const PROMPT_LAYOUTS: Layout[] = Array.from({ length: 10 }, (_, digit): Layout[] => [
  ...PLACES.map((place): Layout => ({ digit, size: 'small', place })),
  { digit, size: 'large', place: 'centre' },
]).flat();

/** The prompt that asks for a layout, in the data set's words. */
export const promptFor = (l: Layout): string => (l.size === 'large' ? `a large ${l.digit}` : `a small ${l.digit} in the ${l.place}`);

export interface Adherence {
  samples: number;
  /** Shares of samples whose digit, size, place — and all three — are the prompt's. */
  digit: number;
  size: number;
  place: number;
  all: number;
  /** `all` per place (small digits) and for large digits. */
  allByLayout: Record<string, number>;
  /** Samples with no ink at all (counted wrong on every count). */
  blank: number;
}

/** Judges pictures (canvas², in [−1, 1]) against the layouts their prompts asked for. */
export async function adherence(classifier: tf.LayersModel, images: Float32Array[], asked: Layout[], canvas: number): Promise<Adherence> {
  const read = images.map((image) =>
    readLayout(
      image.map((v) => (v + 1) / 2),
      canvas,
    ),
  );
  const frames = images.map((image, i) => {
    const r = read[i];
    return r
      ? toMnistFrame(
          image.map((v) => (v + 1) / 2),
          canvas,
          r.box,
        ).map((v) => 2 * v - 1)
      : new Float32Array(28 * 28).fill(-1);
  });
  const { labels } = await classify(classifier, frames);
  const ok = asked.map((l, i) => ({
    digit: read[i] !== null && labels[i] === l.digit,
    size: read[i]?.size === l.size,
    place: read[i]?.place === l.place,
  }));
  const share = (f: (o: (typeof ok)[number], i: number) => boolean, idx = ok.map((_, i) => i)) =>
    idx.length ? idx.filter((i) => f(ok[i], i)).length / idx.length : 0;
  const all = (o: (typeof ok)[number]) => o.digit && o.size && o.place;
  const groups = [
    ...PLACES.map((p) => [`small ${p}`, (l: Layout) => l.size === 'small' && l.place === p] as const),
    ['large', (l: Layout) => l.size === 'large'] as const,
  ];
  return {
    samples: images.length,
    digit: share((o) => o.digit),
    size: share((o) => o.size),
    place: share((o) => o.place),
    all: share(all),
    allByLayout: Object.fromEntries(
      groups.map(([name, f]) => [
        name,
        share(
          all,
          asked.flatMap((l, i) => (f(l) ? [i] : [])),
        ),
      ]),
    ),
    blank: read.filter((r) => r === null).length,
  };
}

/**
 * The same judge on the data set's own pictures: held-out digits drawn at every prompt layout
 * (`perLayout` each). What a perfect model would score: the reader's ceiling.
 */
export async function dataCeiling(
  classifier: tf.LayersModel,
  heldOut: LabelledDigits,
  canvas: number,
  perLayout: number,
): Promise<Adherence> {
  const rng = new SeededNormal(1);
  const images: Float32Array[] = [];
  const asked: Layout[] = [];
  for (const layout of PROMPT_LAYOUTS) {
    const mine = heldOut.labels.flatMap((l, i) => (l === layout.digit ? [i] : []));
    for (let k = 0; k < perLayout; k++) {
      images.push(compose(heldOut.images[mine[Math.floor(rng.uniform() * mine.length)]], layout, canvas, rng).map((v) => 2 * v - 1));
      asked.push(layout);
    }
  }
  return adherence(classifier, images, asked, canvas);
}
