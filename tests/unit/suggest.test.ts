import { describe, expect, it } from 'vitest';
import { pictureNote, suggestOptions } from '../../src/data/suggest';

// issue 26, item 2: colour 64×64 emoji trained as 28×28 grey by default
describe('the size and colour the pictures choose', () => {
  const many = (n: number, f: { width: number; height: number; colour: boolean }) => Array.from({ length: n }, () => f);
  it('colour pictures train in colour, at the largest size that does not enlarge them, at most 32', () => {
    const emoji = suggestOptions(many(300, { width: 64, height: 64, colour: true }), 'crop');
    expect(emoji.options).toEqual({ size: 32, channels: 3, fit: 'crop' });
    expect(emoji.reason).toBe(
      'Your pictures are colour, typically 64×64: they train at 32×32 colour (64×64 keeps more detail and trains about 4× slower here).',
    );
  });
  it('28×28 grey digits stay 28×28 grey; tiny and odd pictures get the smallest size; a wide picture counts by its shorter side', () => {
    expect(suggestOptions(many(10, { width: 28, height: 28, colour: false }), 'crop').options).toEqual({
      size: 28,
      channels: 1,
      fit: 'crop',
    });
    expect(suggestOptions([{ width: 1, height: 1, colour: false }], 'pad').options).toEqual({ size: 16, channels: 1, fit: 'pad' });
    const wide = suggestOptions([{ width: 5000, height: 100, colour: true }], 'crop');
    expect(wide.options.size).toBe(32);
    expect(wide.reason).toMatch(/typically 5000×100: they train at 32×32 colour \(64×64/);
    // a mixed set goes by its majority: colour from half the pictures on, the median size
    const mixed = [...many(2, { width: 30, height: 30, colour: false }), ...many(3, { width: 20, height: 40, colour: true })];
    expect(suggestOptions(mixed, 'crop').options).toEqual({ size: 16, channels: 3, fit: 'crop' });
  });
});

// issue 26, item 18: a 1×1 and a 5000×100 picture were accepted without a word
describe('what a person should know of a picture fitted to the size', () => {
  it('says when a picture is enlarged a lot, or keeps little of itself when long and thin', () => {
    expect(pictureNote({ width: 1, height: 1, colour: false }, { size: 28, channels: 1, fit: 'crop' })).toBe(
      'it is 1×1: enlarged 28× to 28×28, so it looks blurred',
    );
    expect(pictureNote({ width: 5000, height: 100, colour: true }, { size: 32, channels: 3, fit: 'crop' })).toBe(
      'it is 5000×100: cropping keeps its centre 100×100, 2 % of its width',
    );
    expect(pictureNote({ width: 100, height: 5000, colour: true }, { size: 32, channels: 3, fit: 'pad' })).toBe(
      "it is 100×5000: padded to a square, it fills 2 % of the picture's width",
    );
    expect(pictureNote({ width: 40, height: 30, colour: false }, { size: 28, channels: 1, fit: 'crop' })).toBeNull();
    expect(pictureNote({ width: 20, height: 20, colour: false }, { size: 28, channels: 1, fit: 'crop' })).toBeNull();
  });
});
