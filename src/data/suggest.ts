import { IMAGE_SIZES } from '../model/config';
import type { DataOptions } from './dataset';
import type { PictureFacts } from './decode';

/** The largest size the page picks by itself: 64 px trains about 4× slower than 32 px here, so a person chooses it. */
const LARGEST_DEFAULT = 32;

/**
 * The size and colour a set of pictures trains at unless the person picks others: colour when at
 * least half of them have colour; the largest offered size that does not enlarge the typical
 * picture (the median of their shorter sides), at most LARGEST_DEFAULT (the smallest size when
 * they are smaller still). With the reason, in the person's words.
 */
export function suggestOptions(facts: readonly PictureFacts[], fit: DataOptions['fit']): { options: DataOptions; reason: string } {
  const colour = 2 * facts.filter((f) => f.colour).length >= facts.length;
  const sorted = facts.map((f) => Math.min(f.width, f.height)).sort((a, b) => a - b);
  const side = sorted[Math.floor(sorted.length / 2)];
  const typical = facts.find((f) => Math.min(f.width, f.height) === side)!;
  const fitting = IMAGE_SIZES.filter((s) => s <= Math.min(side, LARGEST_DEFAULT));
  const size = fitting.length ? fitting[fitting.length - 1] : IMAGE_SIZES[0];
  const kind = colour ? 'colour' : 'grey';
  const larger = IMAGE_SIZES.find((s) => s > size && s <= side);
  return {
    options: { size, channels: colour ? 3 : 1, fit },
    reason:
      `Your pictures are ${kind}, typically ${typical.width}×${typical.height}: they train at ${size}×${size} ${kind}` +
      (larger ? ` (${larger}×${larger} keeps more detail and trains about ${Math.round((larger / size) ** 2)}× slower here).` : '.'),
  };
}

/**
 * What a person should know of one picture fitted to the training size, or null: much smaller than
 * the size (enlarged, so blurred), or long and thin (cropping keeps a small part of it; padding
 * leaves it a strip).
 */
export function pictureNote({ width, height }: PictureFacts, { size, fit }: DataOptions): string | null {
  const short = Math.min(width, height);
  const long = Math.max(width, height);
  const along = width > height ? 'width' : 'height';
  if (long >= 3 * short) {
    const share = Math.round((100 * short) / long);
    return fit === 'crop'
      ? `it is ${width}×${height}: cropping keeps its centre ${short}×${short}, ${share} % of its ${along}`
      : `it is ${width}×${height}: padded to a square, it fills ${share} % of the picture's ${along === 'width' ? 'height' : 'width'}`;
  }
  if (2 * long < size) return `it is ${width}×${height}: enlarged ${Math.round(size / long)}× to ${size}×${size}, so it looks blurred`;
  return null;
}
