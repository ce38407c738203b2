import { applyPalette, GIFEncoder, quantize } from 'gifenc';
import type { ImageBatch } from '../protocol';
import { gridRGBA } from './pixels';

/** A picture with its caption ("t=951", "DDIM"): a recorded step of a run, or a sampler's result. */
export interface LabelledImage {
  label: string;
  image: ImageBatch;
}

/** Nearest-neighbour upscale of RGBA pixels by an integer factor. */
function upscale(data: Uint8ClampedArray, width: number, height: number, k: number): Uint8ClampedArray {
  const out = new Uint8ClampedArray(width * k * height * k * 4);
  for (let y = 0; y < height * k; y++)
    for (let x = 0; x < width * k; x++) {
      const s = (Math.floor(y / k) * width + Math.floor(x / k)) * 4;
      out.set(data.subarray(s, s + 4), (y * width * k + x) * 4);
    }
  return out;
}

/** The trajectory as an animated GIF (last frame held), scaled so a 28×28 digit is 112 px. */
export function trajectoryGif(frames: readonly LabelledImage[]): Blob {
  const gif = GIFEncoder();
  frames.forEach((f, i) => {
    const { data, width, height } = gridRGBA(f.image, 'image');
    const k = Math.max(1, Math.round(112 / f.image.size));
    const big = upscale(data, width, height, k);
    const palette = quantize(big, 256);
    gif.writeFrame(applyPalette(big, palette), width * k, height * k, { palette, delay: i === frames.length - 1 ? 2000 : 80 });
  });
  gif.finish();
  return new Blob([gif.bytes() as Uint8Array<ArrayBuffer>], { type: 'image/gif' });
}

/** Pictures side by side in one PNG, each with its label under it. */
export async function stripPng(frames: LabelledImage[]): Promise<Blob> {
  const grids = frames.map((f) => gridRGBA(f.image, 'image'));
  const k = Math.max(1, Math.round(84 / frames[0].image.size));
  const cell = Math.max(...grids.map((g) => g.width)) * k;
  const canvas = document.createElement('canvas');
  canvas.width = frames.length * (cell + 4) + 4;
  canvas.height = cell + 24;
  const ctx = canvas.getContext('2d')!;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.imageSmoothingEnabled = false;
  grids.forEach((g, i) => {
    const tmp = document.createElement('canvas');
    tmp.width = g.width;
    tmp.height = g.height;
    tmp.getContext('2d')!.putImageData(new ImageData(g.data as Uint8ClampedArray<ArrayBuffer>, g.width, g.height), 0, 0);
    ctx.drawImage(tmp, 4 + i * (cell + 4), 4, g.width * k, g.height * k);
    ctx.fillStyle = '#333';
    ctx.font = '12px system-ui, sans-serif';
    ctx.fillText(frames[i].label, 4 + i * (cell + 4), cell + 18);
  });
  return new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('PNG encoding failed'))), 'image/png'));
}

export function download(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
