import { describe, expect, it } from 'vitest';
import { SeededNormal } from '../../src/diffusion/seeded-normal';
import {
  caption,
  compose,
  inkBox,
  INK_HEIGHT,
  makeCaptionedDigits,
  parsePrompt,
  PLACES,
  readLayout,
  toMnistFrame,
  type Layout,
} from '../../src/data/captioned-digits';
import { DIGIT_PIXELS } from '../../src/data/mnist-split';
import { buildVocabulary, describeUnread, tokenize, words } from '../../src/text/tokenizer';

/** A synthetic 28×28 "digit": a filled bar 4 px wide, rows 4–23 (ink height 20). */
function bar(): Float32Array {
  const d = new Float32Array(DIGIT_PIXELS);
  for (let y = 4; y < 24; y++) for (let x = 12; x < 16; x++) d[y * 28 + x] = 1;
  return d;
}

describe('the tokenizer', () => {
  const vocabulary = buildVocabulary(['a small 3 in the top left', 'Big seven, centre']);
  it('builds a vocabulary of <pad>, <start> and the words, sorted', () => {
    expect(vocabulary.slice(0, 2)).toEqual(['<pad>', '<start>']);
    expect(vocabulary.slice(2)).toEqual(['3', 'a', 'big', 'centre', 'in', 'left', 'seven', 'small', 'the', 'top']);
  });
  it('splits on anything but letters and digits, lower-cased', () => {
    expect(words('A small-3, TOP left!')).toEqual(['a', 'small', '3', 'top', 'left']);
    expect(words('  ')).toEqual([]);
  });
  it('starts with <start>, pads with <pad>, and names the words it does not know', () => {
    const t = tokenize('a small cat in the top left', vocabulary, 8);
    expect(t.ids[0]).toBe(1);
    expect(t.ids).toHaveLength(8);
    expect(t.ids.slice(1).map((i) => vocabulary[i])).toEqual(['a', 'small', 'in', 'the', 'top', 'left', '<pad>']);
    expect(t.unknown).toEqual(['cat']);
    expect(t.words.find((w) => w.word === 'cat')!.id).toBeNull();
    expect(describeUnread(t)).toBe("the model doesn't know 'cat'");
    // the empty prompt is <start> alone
    expect(tokenize('', vocabulary, 4).ids).toEqual([1, 0, 0, 0]);
    // '<pad>' typed in a prompt is not a word (the tokenizer never reads it as the special token)
    expect(tokenize('pad start', vocabulary, 4).unknown).toEqual(['pad', 'start']);
  });
  it('says which known words do not fit', () => {
    const t = tokenize('a small 3 in the top left', vocabulary, 4);
    expect(t.ids.slice(1).map((i) => vocabulary[i])).toEqual(['a', 'small', '3']);
    expect(t.truncated).toEqual(['in', 'the', 'top', 'left']);
    expect(describeUnread(t)).toMatch(/'in', 'the', 'top', 'left' are cut/);
    expect(describeUnread(tokenize('a 3', vocabulary, 8))).toBeNull();
  });
});

describe('captioned digits', () => {
  it('draws a digit at the size and place its layout names, and reads them back', () => {
    const rng = new SeededNormal(3);
    for (const canvas of [32, 48]) {
      for (const layout of [
        ...PLACES.map((place): Layout => ({ digit: 1, size: 'small', place })),
        { digit: 1, size: 'large', place: 'centre' } as Layout,
      ]) {
        for (let k = 0; k < 5; k++) {
          const picture = compose(bar(), layout, canvas, rng);
          const box = inkBox(picture, canvas, 0.3)!;
          const [lo, hi] = INK_HEIGHT[layout.size];
          const height = (box.y1 - box.y0) / canvas;
          expect(height).toBeGreaterThanOrEqual(lo - 2 / canvas);
          expect(height).toBeLessThanOrEqual(hi + 2 / canvas);
          const read = readLayout(picture, canvas)!;
          expect({ size: read.size, place: read.place }).toEqual({ size: layout.size, place: layout.place });
        }
      }
    }
  });

  it('says in its captions only what was drawn, in words parsePrompt reads back', () => {
    const rng = new SeededNormal(5);
    const seen = new Set<string>();
    for (let digit = 0; digit < 10; digit++)
      for (const layout of [
        ...PLACES.map((place): Layout => ({ digit, size: 'small', place })),
        { digit, size: 'large', place: 'centre' } as Layout,
      ])
        for (let k = 0; k < 20; k++) {
          const c = caption(layout, rng);
          seen.add(c);
          const asked = parsePrompt(c);
          expect(asked.digit).toBe(digit);
          if (asked.size) expect(asked.size).toBe(layout.size);
          if (asked.place) expect(asked.place).toBe(layout.place);
          expect(c).not.toMatch(/\ba [8e]|\ban [^8e]/); // "an 8", "an eight", "a small 8"
        }
    // the wording varies: numerals and words, synonyms, both orders
    const all = [...seen].join(' | ');
    for (const w of ['seven', ' 7', 'tiny', 'big', 'upper left', 'center', 'middle', 'in the top', ', top']) expect(all).toContain(w);
    expect(parsePrompt('a small 3 in the top left')).toEqual({ digit: 3, size: 'small', place: 'top left' });
    expect(parsePrompt('big eight')).toEqual({ digit: 8, size: 'large' });
    expect(parsePrompt('lower right, tiny nine')).toEqual({ digit: 9, size: 'small', place: 'bottom right' });
  });

  it('is the same for the same digits and seed, and different for another seed', () => {
    const digits = { images: [bar(), bar()], labels: [1, 1] };
    const a = makeCaptionedDigits(digits, { canvas: 32, perDigit: 3, captionsPerPicture: 2, seed: 7 });
    const b = makeCaptionedDigits(digits, { canvas: 32, perDigit: 3, captionsPerPicture: 2, seed: 7 });
    const c = makeCaptionedDigits(digits, { canvas: 32, perDigit: 3, captionsPerPicture: 2, seed: 8 });
    expect(a.images).toHaveLength(6);
    expect(a.captions[0]).toHaveLength(2);
    expect(a).toEqual(b);
    expect(a.captions).not.toEqual(c.captions);
  });

  it('frames a picture’s ink as an MNIST digit: longer side 20 px, centre of mass in the middle', () => {
    const picture = compose(bar(), { digit: 1, size: 'small', place: 'top right' }, 48, new SeededNormal(1));
    const frame = toMnistFrame(picture, 48, readLayout(picture, 48)!.box);
    const box = inkBox(frame, 28, 0.3)!;
    expect(box.y1 - box.y0).toBeGreaterThanOrEqual(19);
    expect(box.y1 - box.y0).toBeLessThanOrEqual(21);
    expect(Math.abs((box.x0 + box.x1) / 2 - 14)).toBeLessThanOrEqual(1);
  });
});
