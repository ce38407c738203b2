import type { ImageBatch } from '../protocol';

/** How values map to grey levels: images live in [−1, 1]; noise is shown over [−3, 3] (±3σ). */
export type Range = 'image' | 'noise';

const RANGE: Record<Range, number> = { image: 1, noise: 3 };

/** The batch laid out as a near-square grid with 1-pixel gaps, as RGBA for an ImageData. */
export function gridRGBA(img: ImageBatch, range: Range): { data: Uint8ClampedArray; width: number; height: number } {
  const cols = Math.ceil(Math.sqrt(img.batch));
  const rows = Math.ceil(img.batch / cols);
  const gap = img.batch > 1 ? 1 : 0;
  const width = cols * img.size + (cols - 1) * gap;
  const height = rows * img.size + (rows - 1) * gap;
  const data = new Uint8ClampedArray(width * height * 4).fill(255);
  const r = RANGE[range];
  const per = img.size * img.size * img.channels;
  for (let b = 0; b < img.batch; b++) {
    const ox = (b % cols) * (img.size + gap);
    const oy = Math.floor(b / cols) * (img.size + gap);
    for (let y = 0; y < img.size; y++) {
      for (let x = 0; x < img.size; x++) {
        const src = b * per + (y * img.size + x) * img.channels;
        const dst = ((oy + y) * width + ox + x) * 4;
        for (let c = 0; c < 3; c++) data[dst + c] = ((img.values[src + (img.channels === 3 ? c : 0)] / r + 1) / 2) * 255;
        data[dst + 3] = 255;
      }
    }
  }
  return { data, width, height };
}

/** One image of a batch, as its own ImageBatch. */
export function pick(img: ImageBatch, index: number): ImageBatch {
  const per = img.size * img.size * img.channels;
  return { ...img, batch: 1, values: img.values.slice(index * per, (index + 1) * per) };
}

/** Image batches of one size and colour as one batch, in order. */
export function concatBatches(batches: ImageBatch[]): ImageBatch {
  const values = new Float32Array(batches.reduce((n, b) => n + b.values.length, 0));
  let offset = 0;
  for (const b of batches) {
    values.set(b.values, offset);
    offset += b.values.length;
  }
  return { ...batches[0], batch: batches.reduce((n, b) => n + b.batch, 0), values };
}

/** A batch's images grouped by a name per image ('' too), in order of first appearance. */
export function groupImages(img: ImageBatch, names: string[]): { name: string; images: ImageBatch }[] {
  const groups = new Map<string, ImageBatch[]>();
  for (let i = 0; i < img.batch; i++) {
    const name = names[i] ?? '';
    groups.set(name, [...(groups.get(name) ?? []), pick(img, i)]);
  }
  return [...groups].map(([name, images]) => ({ name, images: concatBatches(images) }));
}
