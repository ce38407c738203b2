import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ZipReader } from '../src/model/diffusers/zip';
import { readNpy } from './npy';

/**
 * The emoji sets, each what tools/torch/emoji_data.py writes for a style (Python is needed once, to
 * make it; it is not committed): the Noto emoji the colour prior trains on, and two styles it never
 * saw, Twitter's and OpenMoji's.
 */
export const EMOJI_STYLES = { emoji: 'google', twemoji: 'twitter', openmoji: 'openmoji' } as const;
export type EmojiSetName = keyof typeof EMOJI_STYLES;
export const EMOJI_SIZE = 32;

/** Where emoji_data.py --style writes a set. */
export function emojiDataPath(set: EmojiSetName): string {
  const style = EMOJI_STYLES[set];
  return `tools/torch/runs/${style === 'google' ? 'emoji' : `emoji-${style}`}/emoji-${EMOJI_SIZE}.npz`;
}

/** The Noto emoji at 32×32 RGB over black: images in [−1, 1] (HWC), category labels, and the held-out tenth. */
export interface EmojiSet {
  categories: string[];
  images: Float32Array[];
  labels: number[];
  heldOut: boolean[];
}

/** Reads emoji_data.py's .npz (images uint8 [N, 32, 32, 3], labels int64, held_out bool) and categories.txt beside it. */
export async function loadEmoji(set: EmojiSetName = 'emoji'): Promise<EmojiSet> {
  const path = emojiDataPath(set);
  const style = EMOJI_STYLES[set];
  let zip: ZipReader;
  try {
    zip = new ZipReader(new Uint8Array(await readFile(path)));
  } catch (e) {
    throw new Error(
      `cannot read ${path} (${e instanceof Error ? e.message : String(e)}): make it with /usr/bin/python3 tools/torch/emoji_data.py${style === 'google' ? '' : ` --style ${style}`}`,
    );
  }
  const array = async (name: string) => readNpy(await zip.read(`${name}.npy`), `${path}:${name}`);
  const [images, labels, heldOut] = await Promise.all([array('images'), array('labels'), array('held_out')]);
  const categories = (await readFile(join(dirname(path), 'categories.txt'), 'utf8')).split('\n').filter((l) => l.trim() !== '');
  const pixels = EMOJI_SIZE * EMOJI_SIZE * 3;
  const n = images.shape[0];
  if (images.dtype !== 'u1' || images.shape.join() !== [n, EMOJI_SIZE, EMOJI_SIZE, 3].join())
    throw new Error(`${path}: images must be uint8 [N, ${EMOJI_SIZE}, ${EMOJI_SIZE}, 3], got ${images.dtype} [${images.shape}]`);
  return {
    categories,
    images: Array.from({ length: n }, (_, i) =>
      Float32Array.from(images.values.subarray(i * pixels, (i + 1) * pixels), (v) => v / 127.5 - 1),
    ),
    labels: Array.from(labels.values, Number),
    heldOut: Array.from(heldOut.values, Boolean),
  };
}
