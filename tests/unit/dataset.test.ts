import { describe, expect, it } from 'vitest';
import { GaussianRng } from '../../src/diffusion/random';
import { fingerprint, folderLabel, ImageDataset } from '../../src/data/dataset';
import { pngIsComplete, sniffImage } from '../../src/data/image-format';
import { bmp, corruptPng, gif, hugePng, notAnImage, png, svg, truncatedPng } from '../fixtures/images';

const bytes = (b: Buffer) => new Uint8Array(b.buffer, b.byteOffset, b.length);

describe('sniffImage: the kind and size of a file from its bytes', () => {
  it('reads width and height from PNG, GIF and BMP headers', () => {
    expect(sniffImage(bytes(png(37, 21)))).toEqual({ kind: 'png', width: 37, height: 21 });
    expect(sniffImage(bytes(gif(12, 9)))).toEqual({ kind: 'gif', width: 12, height: 9 });
    expect(sniffImage(bytes(bmp(10, 7)))).toEqual({ kind: 'bmp', width: 10, height: 7 });
  });

  it('finds a JPEG frame header after an APP segment, and reads WebP VP8L / VP8X sizes', () => {
    // SOI, APP0 (16 bytes), SOF0: length 17, precision 8, height 480, width 640
    const jpeg = Uint8Array.from([
      0xff,
      0xd8,
      0xff,
      0xe0,
      0,
      16,
      ...new Array<number>(14).fill(0),
      0xff,
      0xc0,
      0,
      17,
      8,
      0x01,
      0xe0,
      0x02,
      0x80,
      3,
      ...new Array<number>(9).fill(0),
    ]);
    expect(sniffImage(jpeg)).toEqual({ kind: 'jpeg', width: 640, height: 480 });
    const riff = (chunk: string, payload: number[]) =>
      Uint8Array.from([...Buffer.from('RIFF'), 0, 0, 0, 0, ...Buffer.from('WEBP'), ...Buffer.from(chunk), 0, 0, 0, 0, ...payload]);
    // VP8L: signature 0x2f, then 14 bits width−1 and 14 bits height−1 (here 300×200)
    const w = 299;
    const h = 199;
    const bits = w | (h << 14);
    expect(
      sniffImage(riff('VP8L', [0x2f, bits & 0xff, (bits >> 8) & 0xff, (bits >> 16) & 0xff, (bits >>> 24) & 0xff, 0, 0, 0, 0])),
    ).toEqual({ kind: 'webp', width: 300, height: 200 });
    // VP8X: flags + 3 reserved, then 24-bit width−1 and height−1 (here 12000×12000)
    const v = 11999;
    expect(sniffImage(riff('VP8X', [0, 0, 0, 0, v & 0xff, (v >> 8) & 0xff, v >> 16, v & 0xff, (v >> 8) & 0xff, v >> 16]))).toEqual({
      kind: 'webp',
      width: 12000,
      height: 12000,
    });
  });

  it('sees a 12000×12000 PNG for what it is from 24 bytes', () => {
    expect(sniffImage(bytes(hugePng()).subarray(0, 24))).toEqual({ kind: 'png', width: 12000, height: 12000 });
  });

  it('tells SVG and non-images apart from pictures, whatever the file is called', () => {
    expect(sniffImage(bytes(svg())).kind).toBe('svg');
    expect(sniffImage(bytes(Buffer.from('\uFEFF  <svg viewBox="0 0 1 1"></svg>'))).kind).toBe('svg');
    expect(sniffImage(bytes(notAnImage())).kind).toBe('unknown');
    expect(sniffImage(new Uint8Array(0)).kind).toBe('unknown');
    expect(sniffImage(bytes(Buffer.from('<html><body>hi</body></html>'))).kind).toBe('unknown');
  });

  it('pngIsComplete rejects a truncated PNG and accepts whole ones (even with junk pixel data)', () => {
    expect(pngIsComplete(bytes(png(40, 40)))).toBe(true);
    expect(pngIsComplete(bytes(truncatedPng()))).toBe(false);
    expect(pngIsComplete(bytes(corruptPng()))).toBe(true); // structure intact: the decoder must catch this one
  });
});

describe('ImageDataset', () => {
  const item = (name: string, label: string | null, value: number) => ({ name, label, pixels: new Uint8Array(4 * 4).fill(value) });

  it('labels come from sub-folders; one folder or loose files make an unconditional set', () => {
    expect(folderLabel('pets/cats/a.png')).toBe('cats');
    expect(folderLabel('a.png')).toBe(null);
    const ds = new ImageDataset({ size: 4, channels: 1, fit: 'crop' });
    ds.add(item('a', 'only', 0));
    ds.add(item('b', 'only', 0));
    expect(ds.classNames).toEqual([]);
    expect(ds.labelIndices()).toEqual([null, null]);
    ds.add(item('c', 'another', 0));
    ds.add(item('d', null, 0));
    expect(ds.classNames).toEqual(['another', 'only']);
    expect(ds.labelIndices()).toEqual([1, 1, 0, null]);
    expect(ds.counts()).toEqual({ only: 2, another: 1, '': 1 });
  });

  it('refuses an image of the wrong size', () => {
    const ds = new ImageDataset({ size: 4, channels: 3, fit: 'crop' });
    expect(() => ds.add(item('a', null, 0))).toThrow(/needs 48 bytes, got 16/);
  });

  it('batches map bytes to [−1, 1], use the no-label index for unlabelled images and flip only when asked', () => {
    const ds = new ImageDataset({ size: 4, channels: 1, fit: 'crop' });
    const ramp = Uint8Array.from({ length: 16 }, (_, i) => (i % 4) * 85); // columns 0, 85, 170, 255
    ds.add({ name: 'ramp', label: null, pixels: ramp });
    const plain = ds.batch(new GaussianRng(0), 16, false, 7);
    expect(plain.labels).toEqual(new Array(16).fill(7));
    for (let b = 0; b < 16; b++)
      expect(Array.from(plain.values.subarray(b * 16, b * 16 + 4))).toEqual([-1, -1 / 3, 1 / 3, 1].map((v) => Math.fround(v)));
    const flipped = ds.batch(new GaussianRng(0), 64, true, 7);
    const firstPixels = Array.from({ length: 64 }, (_, b) => flipped.values[b * 16]);
    expect(firstPixels.filter((v) => v === 1).length).toBeGreaterThan(15); // mirrored: column 0 is now the bright one
    expect(firstPixels.filter((v) => v === -1).length).toBeGreaterThan(15);
  });

  it('fingerprints tell identical files apart from different ones', () => {
    expect(fingerprint(bytes(png(20, 20)))).toBe(fingerprint(bytes(png(20, 20))));
    expect(fingerprint(bytes(png(20, 20)))).not.toBe(fingerprint(bytes(png(20, 20, 'bar'))));
  });
});
