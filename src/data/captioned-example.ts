import { SeededNormal } from '../diffusion/seeded-normal';
import { makeCaptionedDigits } from './captioned-digits';
import type { ImageItem } from './dataset';
import { DIGIT_PIXELS, type LabelledDigits } from './mnist-split';

/**
 * The training panel's "Captioned digits" example: the captioned-digits data set (captioned-digits.ts)
 * made in the page from the shipped training digits, small enough to train in a tab. 32×32, the
 * smallest page size at which a small digit (25–40 % of the canvas, 8–13 px) is still a readable
 * digit in a corner, and which the tiny U-Net halves to 8×8; 200 pictures per digit, 2,000 in all,
 * one caption each: a session on a software backend sees a few thousand pictures, so more would
 * never be visited, and fewer would let the model learn captions by heart.
 */
export const EXAMPLE_CANVAS = 32;
export const EXAMPLE_PER_DIGIT = 200;
const EXAMPLE_SEED = 25;

/**
 * The example from class-major 28×28 grey digit bytes (`counts[d]` digits of class d, as
 * public/data/train-digits.* has them): the first `perDigit` of each digit, each drawn once at a
 * seeded size and place with a caption of what was drawn (makeCaptionedDigits).
 */
export function captionedDigitsExample(bytes: Uint8Array, counts: number[], perDigit = EXAMPLE_PER_DIGIT): ImageItem[] {
  const digits: LabelledDigits = { images: [], labels: [] };
  let start = 0;
  counts.forEach((count, digit) => {
    for (let k = 0; k < Math.min(perDigit, count); k++) {
      const offset = (start + k) * DIGIT_PIXELS;
      digits.images.push(Float32Array.from(bytes.subarray(offset, offset + DIGIT_PIXELS), (v) => v / 255));
      digits.labels.push(digit);
    }
    start += count;
  });
  const set = makeCaptionedDigits(digits, { canvas: EXAMPLE_CANVAS, perDigit: 1, captionsPerPicture: 1, seed: EXAMPLE_SEED });
  const items = set.images.map((picture, i) => ({
    name: `digit ${set.layouts[i].digit} #${i + 1}`,
    label: null,
    pixels: Uint8Array.from(picture, (v) => Math.round(v * 255)),
    caption: set.captions[i][0],
  }));
  // mixed (seeded), so the preview shows every digit
  const rng = new SeededNormal(EXAMPLE_SEED);
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}
