import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DIGIT_SIZE } from '../src/data/mnist-split';
import { UsageError } from './args';
import { decodePng, toBytes } from './png';

/** The eval's digit pictures on disk: label-named samples to read, and a grid of samples to write. */

const CLASSES = 10;
const GRID_GAP = 2;

export /** Grayscale bytes of a grid: row r holds the first `columns` images labelled r, tiles GRID_GAP px apart on white. */
function sampleGrid(
  images: Float32Array[],
  labels: number[],
  columns: number,
  rows = CLASSES,
  side = DIGIT_SIZE,
  channels = 1,
): { pixels: Uint8Array; width: number; height: number } {
  const pitch = side + GRID_GAP;
  const width = columns * pitch - GRID_GAP;
  const height = rows * pitch - GRID_GAP;
  const pixels = new Uint8Array(width * height * channels).fill(255);
  const line = side * channels;
  for (let row = 0; row < rows; row++) {
    const tiles = images.filter((_, i) => labels[i] === row).slice(0, columns);
    tiles.forEach((image, col) => {
      const bytes = toBytes(image);
      for (let y = 0; y < side; y++)
        pixels.set(bytes.subarray(y * line, (y + 1) * line), ((row * pitch + y) * width + col * pitch) * channels);
    });
  }
  return { pixels, width, height };
}

export /** Label-named sample pictures (`<label>_<index>.png`, 28×28 grey, as `npm run sample` and tools/torch/sample.py write them) in [−1, 1]. */
async function readSamples(dir: string): Promise<{ images: Float32Array[]; labels: number[] }> {
  const entries = await readdir(dir).catch((e: NodeJS.ErrnoException) => {
    throw new UsageError(`--samples: cannot read the directory '${dir}' (${e.code ?? e.message})`);
  });
  const named = entries.filter((f) => f.toLowerCase().endsWith('.png')).map((file) => ({ file, m: /^(\d+)_(\d+)\.png$/.exec(file) }));
  const misnamed = named.filter((n) => n.m === null || Number(n.m[1]) >= CLASSES).map((n) => n.file);
  if (misnamed.length > 0)
    throw new UsageError(
      `--samples: '${dir}' has pictures not named <label 0-9>_<index>.png: ${misnamed.slice(0, 5).join(', ')}${misnamed.length > 5 ? ', …' : ''}`,
    );
  if (named.length === 0) throw new UsageError(`--samples: no <label>_<index>.png pictures in '${dir}'`);
  const files = named
    .map(({ file, m }) => ({ file, label: Number(m![1]), index: Number(m![2]) }))
    .sort((x, y) => x.label - y.label || x.index - y.index);
  const images = [];
  for (const { file } of files) {
    let png;
    try {
      png = decodePng(await readFile(join(dir, file)));
    } catch (e) {
      throw new UsageError(`--samples: ${file}: ${(e as Error).message}`);
    }
    if (png.width !== DIGIT_SIZE || png.height !== DIGIT_SIZE || png.channels !== 1)
      throw new UsageError(
        `--samples: ${file} is ${png.width}×${png.height} with ${png.channels} channels; the eval reads ${DIGIT_SIZE}×${DIGIT_SIZE} grey digits`,
      );
    images.push(Float32Array.from(png.pixels, (v) => v / 127.5 - 1));
  }
  return { images, labels: files.map((f) => f.label) };
}
