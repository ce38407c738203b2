import { readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodePng, encodePng } from '../../scripts/png';

/** Pictures written by Pillow (tools/torch/sample.py writes its samples with it) and their pixels as Pillow reads them. */
const expected = JSON.parse(readFileSync('tests/fixtures/png/expected.json', 'utf8')) as Record<
  string,
  { width: number; height: number; channels: number; pixels: number[] }
>;

/** The row filters a PNG uses (from its first IDAT chunk, which holds the whole image in these small files). */
function rowFilters(file: Buffer, stride: number): Set<number> {
  const at = file.indexOf('IDAT');
  const raw = inflateSync(file.subarray(at + 4, at + 4 + file.readUInt32BE(at - 4)));
  return new Set(Array.from({ length: raw.length / (stride + 1) }, (_, y) => raw[y * (stride + 1)]));
}

describe('PNG decoding (scripts/png.ts)', () => {
  it.each(Object.keys(expected))('reads %s as Pillow does', (name) => {
    const file = readFileSync(`tests/fixtures/png/${name}`);
    const want = expected[name];
    const got = decodePng(file);
    expect([got.width, got.height, got.channels]).toEqual([want.width, want.height, want.channels]);
    expect(Array.from(got.pixels)).toEqual(want.pixels);
  });

  it('the fixtures exercise row filters 1–4 (filter 0, none, is what encodePng writes)', () => {
    const used = new Set<number>();
    for (const [name, { width, channels }] of Object.entries(expected))
      for (const f of rowFilters(readFileSync(`tests/fixtures/png/${name}`), width * channels)) used.add(f);
    expect([...used].sort()).toEqual([1, 2, 3, 4]);
  });

  it('round-trips its own encoder, grey and RGB', () => {
    const grey = Uint8Array.from({ length: 5 * 3 }, (_, i) => (i * 37) % 256);
    expect(decodePng(encodePng(grey, 5, 3, 1))).toEqual({ pixels: grey, width: 5, height: 3, channels: 1 });
    const rgb = Uint8Array.from({ length: 4 * 2 * 3 }, (_, i) => (i * 91) % 256);
    expect(decodePng(encodePng(rgb, 4, 2, 3))).toEqual({ pixels: rgb, width: 4, height: 2, channels: 3 });
  });

  it('says what is wrong with a file it cannot read', () => {
    const good = encodePng(new Uint8Array(16), 4, 4, 1);
    expect(() => decodePng(Buffer.from('not a png at all, just some text'))).toThrow(/not a PNG/);
    expect(() => decodePng(good.subarray(0, 40))).toThrow(/truncated PNG/);
    const sixteenBit = Buffer.from(good);
    sixteenBit[8 + 8 + 8] = 16; // IHDR bit depth
    expect(() => decodePng(sixteenBit)).toThrow(/bit depth 16/);
  });
});
