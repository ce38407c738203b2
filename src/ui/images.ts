import { decodeImageFile } from '../data/decode';
import type { ImageBatch } from '../protocol';

/** The example digits shipped in public/data (see scripts/export-digits.ts). */
export async function loadExampleDigits(): Promise<{ images: ImageBatch[]; labels: number[] }> {
  const base = document.baseURI;
  const [meta, bin] = await Promise.all([
    fetch(new URL('data/digits.json', base)).then((r) => r.json() as Promise<{ size: number; channels: number; labels: number[] }>),
    fetch(new URL('data/digits.bin', base)).then((r) => r.arrayBuffer()),
  ]);
  const bytes = new Uint8Array(bin);
  const per = meta.size * meta.size * meta.channels;
  const images = meta.labels.map((_, i) => imageOfBytes(bytes.subarray(i * per, (i + 1) * per), meta.size, meta.channels));
  return { images, labels: meta.labels };
}

/** Bytes (size·size·channels, 0–255) as a one-image batch in [−1, 1]. */
export function imageOfBytes(bytes: Uint8Array, size: number, channels: number): ImageBatch {
  return { values: Float32Array.from(bytes, (v) => (v / 255) * 2 - 1), batch: 1, size, channels };
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

/** A picture a person chose, center-cropped to the model's size, as an image in [−1, 1]. */
export async function decodeUpload(file: Blob, size: number, channels: number): Promise<ImageBatch> {
  return imageOfBytes(await decodeImageFile(file, { size, channels: channels as 1 | 3, fit: 'crop' }), size, channels);
}
