import { SeededNormal } from '../diffusion/seeded-normal';
import { DIGIT_SIZE, type LabelledDigits } from './mnist-split';

/**
 * Captioned digits: the text model's data set, made from MNIST digits. Each picture is one digit,
 * white on black, on a larger canvas, at a size and a place, with captions that say what was
 * actually drawn in varied words ("a small 3 in the top left", "tiny three, upper left", "7").
 * Sizes by the digit's ink height: small 25–40 % of the canvas, large 60–90 %; small digits sit in
 * a corner or the centre, large ones in the centre. Pure and seeded: the same digits and seed give
 * the same pictures and captions here, in the page and in tools/torch (which reads them from
 * scripts/captioned-digits.ts's file). `readLayout` measures a picture the same way, so the
 * evaluation asks of a sample what the data set promises of a picture.
 */
export const SIZES = ['small', 'large'] as const;
export const PLACES = ['top left', 'top right', 'bottom left', 'bottom right', 'centre'] as const;
export type Size = (typeof SIZES)[number];
export type Place = (typeof PLACES)[number];

/** What a picture shows: its digit, how big, where. */
export interface Layout {
  digit: number;
  size: Size;
  place: Place;
}

/** Ink height as a fraction of the canvas, per size. */
export const INK_HEIGHT: Record<Size, [number, number]> = { small: [0.25, 0.4], large: [0.6, 0.9] };

const DIGIT_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
const SIZE_WORDS: Record<Size, string[]> = { small: ['small', 'tiny', 'little'], large: ['large', 'big'] };
const PLACE_WORDS: Record<Place, string[]> = {
  'top left': ['top left', 'upper left'],
  'top right': ['top right', 'upper right'],
  'bottom left': ['bottom left', 'lower left'],
  'bottom right': ['bottom right', 'lower right'],
  centre: ['centre', 'center', 'middle'],
};

/** The bounding box of the pixels brighter than `threshold`: [x0, y0, x1, y1) or null when there is no ink. */
export interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export function inkBox(pixels: ArrayLike<number>, side: number, threshold = 0.3): Box | null {
  let x0 = side,
    y0 = side,
    x1 = 0,
    y1 = 0;
  for (let y = 0; y < side; y++)
    for (let x = 0; x < side; x++)
      if (pixels[y * side + x] > threshold) {
        x0 = Math.min(x0, x);
        y0 = Math.min(y0, y);
        x1 = Math.max(x1, x + 1);
        y1 = Math.max(y1, y + 1);
      }
  return x1 > x0 ? { x0, y0, x1, y1 } : null;
}

/**
 * Draws the `box` of a `side`×`side` source, scaled by `scale`, with the box's top-left corner at
 * (left, top) of the `out` canvas (`canvas`×`canvas`): each output pixel is the mean of 4×4 bilinear
 * samples of the source (anti-aliased when shrinking). Adds (max) into `out`.
 */
export function drawScaled(
  src: ArrayLike<number>,
  side: number,
  box: Box,
  scale: number,
  out: Float32Array,
  canvas: number,
  left: number,
  top: number,
) {
  const sub = 4;
  const at = (x: number, y: number) => (x < 0 || y < 0 || x >= side || y >= side ? 0 : src[y * side + x]);
  const bilinear = (sx: number, sy: number) => {
    const fx = Math.floor(sx),
      fy = Math.floor(sy);
    const ax = sx - fx,
      ay = sy - fy;
    return (1 - ay) * ((1 - ax) * at(fx, fy) + ax * at(fx + 1, fy)) + ay * ((1 - ax) * at(fx, fy + 1) + ax * at(fx + 1, fy + 1));
  };
  const w = (box.x1 - box.x0) * scale,
    h = (box.y1 - box.y0) * scale;
  for (let oy = Math.max(0, Math.floor(top) - 1); oy < Math.min(canvas, Math.ceil(top + h) + 1); oy++)
    for (let ox = Math.max(0, Math.floor(left) - 1); ox < Math.min(canvas, Math.ceil(left + w) + 1); ox++) {
      let sum = 0;
      for (let j = 0; j < sub; j++)
        for (let i = 0; i < sub; i++) {
          // the sub-sample's position in the canvas → in the source (pixel centres at +0.5)
          const cx = ox + (i + 0.5) / sub,
            cy = oy + (j + 0.5) / sub;
          sum += bilinear(box.x0 + (cx - left) / scale - 0.5, box.y0 + (cy - top) / scale - 0.5);
        }
      out[oy * canvas + ox] = Math.max(out[oy * canvas + ox], Math.min(1, sum / (sub * sub)));
    }
}

/** A seeded uniform in [a, b). */
const between = (rng: SeededNormal, a: number, b: number) => a + (b - a) * rng.uniform();
const pick = <T>(rng: SeededNormal, xs: readonly T[]): T => xs[Math.floor(rng.uniform() * xs.length)];

/** One MNIST digit (28×28, [0, 1]) drawn on a `canvas`-sided picture as `layout` says. */
export function compose(digit: ArrayLike<number>, layout: Layout, canvas: number, rng: SeededNormal): Float32Array {
  const out = new Float32Array(canvas * canvas);
  const box = inkBox(digit, DIGIT_SIZE, 0.1);
  if (!box) return out;
  const [lo, hi] = INK_HEIGHT[layout.size];
  const scale = (between(rng, lo, hi) * canvas) / (box.y1 - box.y0);
  const w = (box.x1 - box.x0) * scale,
    h = (box.y1 - box.y0) * scale;
  const half = canvas / 2;
  // a corner's digit lies inside its quarter, a pixel from the edges; the centre's within 2 px of it
  const span = (extent: number, far: boolean) =>
    far ? between(rng, half + 1, Math.max(half + 1, canvas - 1 - extent)) : between(rng, 1, Math.max(1, half - 1 - extent));
  const jitter = layout.size === 'large' ? 1 : 2;
  let left: number, top: number;
  if (layout.place === 'centre') {
    left = half - w / 2 + between(rng, -jitter, jitter);
    top = half - h / 2 + between(rng, -jitter, jitter);
  } else {
    left = span(w, layout.place.endsWith('right'));
    top = span(h, layout.place.startsWith('bottom'));
  }
  drawScaled(digit, DIGIT_SIZE, box, scale, out, canvas, left, top);
  return out;
}

/** A caption for a layout in one of the data set's wordings (size and place each said or not). */
export function caption(layout: Layout, rng: SeededNormal): string {
  const d = rng.uniform() < 0.5 ? String(layout.digit) : DIGIT_WORDS[layout.digit];
  const size = rng.uniform() < 0.7 ? pick(rng, SIZE_WORDS[layout.size]) : '';
  // a large digit is always centred: saying so is rarer
  const place = rng.uniform() < (layout.size === 'large' ? 0.3 : 0.75) ? pick(rng, PLACE_WORDS[layout.place]) : '';
  const noun = [size, d].filter(Boolean).join(' ');
  const article = /^(8|eight|11|eleven)/.test(noun) ? 'an' : 'a';
  const templates = place
    ? [
        `${article} ${noun} in the ${place}`,
        `${noun}, ${place}`,
        `${noun} ${place}`,
        `in the ${place}, ${article} ${noun}`,
        `${article} ${noun} at the ${place}`,
      ]
    : [`${article} ${noun}`, noun, ...(size ? [] : [`the number ${d}`])];
  return pick(rng, templates);
}

/** What a prompt asks for, by the data set's words: any of digit, size and place it names. */
export function parsePrompt(prompt: string): Partial<Layout> {
  const ws = prompt.toLowerCase().match(/[a-z0-9]+/g) ?? [];
  const out: Partial<Layout> = {};
  for (const w of ws) {
    if (/^[0-9]$/.test(w)) out.digit = Number(w);
    else if (DIGIT_WORDS.includes(w)) out.digit = DIGIT_WORDS.indexOf(w);
    for (const s of SIZES) if (SIZE_WORDS[s].includes(w)) out.size = s;
    if (w === 'centre' || w === 'center' || w === 'middle') out.place = 'centre';
  }
  const vertical = ws.find((w) => ['top', 'upper', 'bottom', 'lower'].includes(w));
  const horizontal = ws.find((w) => w === 'left' || w === 'right');
  if (vertical && horizontal) out.place = `${vertical === 'top' || vertical === 'upper' ? 'top' : 'bottom'} ${horizontal}` as Place;
  return out;
}

/** A picture's size and place as measured from its ink (threshold 0.3 on [0, 1]): the data set's rules read back. */
export function readLayout(pixels: ArrayLike<number>, canvas: number): { size: Size; place: Place; box: Box } | null {
  const box = inkBox(pixels, canvas);
  if (!box) return null;
  const size: Size = (box.y1 - box.y0) / canvas < 0.5 ? 'small' : 'large';
  const half = canvas / 2;
  const cx = (box.x0 + box.x1) / 2 - half,
    cy = (box.y0 + box.y1) / 2 - half;
  const place: Place =
    Math.abs(cx) < canvas / 8 && Math.abs(cy) < canvas / 8
      ? 'centre'
      : (`${cy < 0 ? 'top' : 'bottom'} ${cx < 0 ? 'left' : 'right'}` as Place);
  return { size, place, box };
}

/**
 * The ink in `box` as an MNIST-style 28×28 digit, as MNIST itself was made: scaled so its longer
 * side is 20 px, placed with its centre of mass at the frame's centre. What the digit classifier reads.
 */
export function toMnistFrame(pixels: ArrayLike<number>, canvas: number, box: Box): Float32Array {
  const out = new Float32Array(DIGIT_SIZE * DIGIT_SIZE);
  const scale = 20 / Math.max(box.x1 - box.x0, box.y1 - box.y0);
  let mass = 0,
    mx = 0,
    my = 0;
  for (let y = box.y0; y < box.y1; y++)
    for (let x = box.x0; x < box.x1; x++) {
      const v = pixels[y * canvas + x];
      mass += v;
      mx += v * (x + 0.5 - box.x0);
      my += v * (y + 0.5 - box.y0);
    }
  drawScaled(pixels, canvas, box, scale, out, DIGIT_SIZE, DIGIT_SIZE / 2 - (mx / mass) * scale, DIGIT_SIZE / 2 - (my / mass) * scale);
  return out;
}

export interface CaptionedDigits {
  canvas: number;
  /** One canvas² array per picture, [0, 1]. */
  images: Float32Array[];
  layouts: Layout[];
  /** `captionsPerPicture` captions per picture. */
  captions: string[][];
}

export interface CaptionedDigitsOptions {
  canvas: number;
  /** Pictures made from each digit (each its own layout). */
  perDigit: number;
  captionsPerPicture: number;
  seed: number;
  /** Share of large digits (the rest are small, spread evenly over the five places). */
  largeShare?: number;
}

/** The data set from a set of digits (the 9,000 training digits for the shipped model). */
export function makeCaptionedDigits(digits: LabelledDigits, o: CaptionedDigitsOptions): CaptionedDigits {
  const rng = new SeededNormal(o.seed);
  const out: CaptionedDigits = { canvas: o.canvas, images: [], layouts: [], captions: [] };
  digits.images.forEach((digit, i) => {
    for (let k = 0; k < o.perDigit; k++) {
      const large = rng.uniform() < (o.largeShare ?? 0.25);
      const layout: Layout = { digit: digits.labels[i], size: large ? 'large' : 'small', place: large ? 'centre' : pick(rng, PLACES) };
      out.images.push(compose(digit, layout, o.canvas, rng));
      out.layouts.push(layout);
      out.captions.push(Array.from({ length: o.captionsPerPicture }, () => caption(layout, rng)));
    }
  });
  return out;
}
