import type { ImageBatch } from '../worker/protocol';

export class ImageDecodeError extends Error {
  override name = 'ImageDecodeError';
}

/** The example digits shipped in public/data (see scripts/export-digits.ts). */
export async function loadExampleDigits(): Promise<{ images: ImageBatch[]; labels: number[] }> {
  const base = document.baseURI;
  const [meta, bin] = await Promise.all([
    fetch(new URL('data/digits.json', base)).then((r) => r.json() as Promise<{ size: number; channels: number; labels: number[] }>),
    fetch(new URL('data/digits.bin', base)).then((r) => r.arrayBuffer()),
  ]);
  const bytes = new Uint8Array(bin);
  const per = meta.size * meta.size * meta.channels;
  const images = meta.labels.map((_, i) => ({
    values: Float32Array.from(bytes.subarray(i * per, (i + 1) * per), (v) => (v / 255) * 2 - 1),
    batch: 1,
    size: meta.size,
    channels: meta.channels,
  }));
  return { images, labels: meta.labels };
}

/** Converts an image to the model's single-channel or RGB layout, if the example's channels differ. */
export function toChannels(img: ImageBatch, channels: number): ImageBatch {
  if (img.channels === channels) return img;
  const n = img.size * img.size;
  const values = new Float32Array(n * channels);
  for (let i = 0; i < n; i++) {
    if (channels === 1) values[i] = (img.values[3 * i] + img.values[3 * i + 1] + img.values[3 * i + 2]) / 3;
    else values.fill(img.values[i], 3 * i, 3 * i + 3);
  }
  return { ...img, values, channels };
}

/**
 * Decodes a picture a person chose (off the main thread's layout work: createImageBitmap), center-crops
 * it to a square, resizes it to `size` and converts it to [−1, 1] grey or RGB.
 */
export async function decodeUpload(file: Blob, size: number, channels: number): Promise<ImageBatch> {
  if (file.size === 0) throw new ImageDecodeError('the file is empty');
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    throw new ImageDecodeError('this file is not an image the browser can decode (PNG, JPEG, WebP, GIF or BMP)');
  }
  const side = Math.min(bitmap.width, bitmap.height);
  const canvas = new OffscreenCanvas(size, size);
  const ctx = canvas.getContext('2d')!;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(bitmap, (bitmap.width - side) / 2, (bitmap.height - side) / 2, side, side, 0, 0, size, size);
  bitmap.close();
  const rgba = ctx.getImageData(0, 0, size, size).data;
  const values = new Float32Array(size * size * channels);
  for (let i = 0; i < size * size; i++) {
    if (channels === 1) values[i] = ((0.299 * rgba[4 * i] + 0.587 * rgba[4 * i + 1] + 0.114 * rgba[4 * i + 2]) / 255) * 2 - 1;
    else for (let c = 0; c < 3; c++) values[3 * i + c] = (rgba[4 * i + c] / 255) * 2 - 1;
  }
  return { values, batch: 1, size, channels };
}
