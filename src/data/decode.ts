import { DATASET_LIMITS, type DataOptions } from './dataset';
import { pngIsComplete, sniffImage } from './image-format';

/** Why one file could not be used; the message is written for the person who chose it. */
export class ImageDecodeError extends Error {
  override name = 'ImageDecodeError';
}

const HEADER_BYTES = 1 << 20;
const megapixels = (w: number, h: number) => `${((w * h) / 1e6).toFixed(0)} megapixels`;

/**
 * Decodes a picture (PNG, JPEG, WebP, GIF's first frame, BMP) with createImageBitmap — the browser
 * decodes off the main thread, and this runs in the worker anyway — then crops or pads it to a
 * square, resizes it to `size` and returns size·size·channels bytes (grey = ITU-R 601 luma).
 * Checks the bytes first: empty, not an image, SVG, or too many pixels to decode safely.
 */
export async function decodeImageFile(file: Blob, options: DataOptions): Promise<Uint8Array> {
  return (await decodePicture(file, options)).pixels;
}

/** What a picture is before it is fitted to the training size: its own size, and whether it has colour. */
export interface PictureFacts {
  width: number;
  height: number;
  colour: boolean;
}

/** decodeImageFile, with the picture's own facts (for choosing the data set's size and colour from the pictures). */
export async function decodePicture(file: Blob, options: DataOptions): Promise<{ pixels: Uint8Array } & PictureFacts> {
  if (file.size === 0) throw new ImageDecodeError('the file is empty (0 bytes)');
  if (file.size > DATASET_LIMITS.maxFileBytes)
    throw new ImageDecodeError(
      `the file is ${(file.size / 2 ** 20).toFixed(0)} MB; the limit is ${DATASET_LIMITS.maxFileBytes / 2 ** 20} MB`,
    );
  const head = new Uint8Array(await file.slice(0, HEADER_BYTES).arrayBuffer());
  const header = sniffImage(head);
  if (header.kind === 'svg')
    throw new ImageDecodeError('SVG is not accepted: a vector drawing can carry scripts and has no pixel size; export it as PNG first');
  if (header.kind === 'unknown')
    throw new ImageDecodeError('not an image: its contents are not PNG, JPEG, WebP, GIF or BMP, whatever its name says');
  const { width, height } = header;
  if (width !== undefined && height !== undefined) {
    if (width === 0 || height === 0) throw new ImageDecodeError(`the header says the image is ${width}×${height}; the file is damaged`);
    if (width * height > DATASET_LIMITS.maxPixels)
      throw new ImageDecodeError(
        `the image is ${width}×${height} (${megapixels(width, height)}); decoding it would need ${((width * height * 4) / 2 ** 30).toFixed(1)} GB, over the ${megapixels(DATASET_LIMITS.maxPixels, 1)} limit — shrink it first`,
      );
  }
  if (header.kind === 'png' && !pngIsComplete(new Uint8Array(await file.arrayBuffer())))
    throw new ImageDecodeError('the PNG is truncated or damaged (its data ends early)');
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    throw new ImageDecodeError(`the ${header.kind.toUpperCase()} is damaged or truncated: the browser could not decode it`);
  }
  try {
    if (bitmap.width * bitmap.height > DATASET_LIMITS.maxPixels)
      throw new ImageDecodeError(
        `the image is ${bitmap.width}×${bitmap.height}, over the ${megapixels(DATASET_LIMITS.maxPixels, 1)} limit`,
      );
    return { ...drawToBytes(bitmap, options), width: bitmap.width, height: bitmap.height };
  } finally {
    bitmap.close();
  }
}

/** A picture has colour when at least 1 % of its pixels have channels more than 24 apart (of 255): not grey with a tint. */
const COLOUR_SPREAD = 24;
const COLOUR_SHARE = 0.01;

function drawToBytes(bitmap: ImageBitmap, { size, channels, fit }: DataOptions): { pixels: Uint8Array; colour: boolean } {
  const canvas = new OffscreenCanvas(size, size);
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  ctx.imageSmoothingQuality = 'high';
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, size, size);
  const { width: w, height: h } = bitmap;
  if (fit === 'crop') {
    const side = Math.min(w, h);
    ctx.drawImage(bitmap, (w - side) / 2, (h - side) / 2, side, side, 0, 0, size, size);
  } else {
    const scale = size / Math.max(w, h);
    ctx.drawImage(bitmap, 0, 0, w, h, (size - w * scale) / 2, (size - h * scale) / 2, w * scale, h * scale);
  }
  const rgba = ctx.getImageData(0, 0, size, size).data;
  const out = new Uint8Array(size * size * channels);
  let coloured = 0;
  for (let i = 0; i < size * size; i++) {
    const [r, g, b] = [rgba[4 * i], rgba[4 * i + 1], rgba[4 * i + 2]];
    if (Math.max(r, g, b) - Math.min(r, g, b) > COLOUR_SPREAD) coloured++;
    // drawn over black, so transparency is already black (the padding colour)
    if (channels === 1) out[i] = Math.round(0.299 * rgba[4 * i] + 0.587 * rgba[4 * i + 1] + 0.114 * rgba[4 * i + 2]);
    else for (let c = 0; c < 3; c++) out[3 * i + c] = rgba[4 * i + c];
  }
  return { pixels: out, colour: coloured >= COLOUR_SHARE * size * size };
}
