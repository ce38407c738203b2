import type { AttentionMaps } from '../protocol';

/** Where a word's attention lies on the picture, in the captioned digits' places. */
export type Where = 'top left' | 'top right' | 'bottom left' | 'bottom right' | 'centre';

/** One word's map [size·size] out of the interleaved maps (token fastest). */
export function wordMap(a: AttentionMaps, word: number): Float32Array {
  const n = a.words.length;
  return Float32Array.from({ length: a.size * a.size }, (_, p) => a.maps[p * n + word]);
}

/**
 * Where a map's mass lies: the centroid of its excess over its own minimum (a word every pixel
 * attends to a little has no place), read as the captioned digits read a digit's place — within
 * size/8 of the centre in both directions is the centre, else the quadrant.
 */
export function whereAttended(map: Float32Array, size: number): Where {
  let min = Infinity;
  for (const v of map) min = Math.min(min, v);
  let mass = 0,
    cx = 0,
    cy = 0;
  map.forEach((v, p) => {
    const m = v - min;
    mass += m;
    cx += m * ((p % size) + 0.5);
    cy += m * (Math.floor(p / size) + 0.5);
  });
  if (mass === 0) return 'centre';
  const dx = cx / mass - size / 2,
    dy = cy / mass - size / 2;
  if (Math.abs(dx) < size / 8 && Math.abs(dy) < size / 8) return 'centre';
  return `${dy < 0 ? 'top' : 'bottom'} ${dx < 0 ? 'left' : 'right'}`;
}

/**
 * A word's map as RGBA over the picture (values in [−1, 1], the first image of x̂0): the picture
 * dimmed to grey, the map — stretched from its own minimum to its maximum, so where it is highest
 * shows whatever its level — laid over it in a warm colour.
 */
export function heatRGBA(map: Float32Array, picture: Float32Array | null): Uint8ClampedArray {
  let max = -Infinity,
    min = Infinity;
  for (const v of map) {
    max = Math.max(max, v);
    min = Math.min(min, v);
  }
  const out = new Uint8ClampedArray(map.length * 4);
  map.forEach((v, p) => {
    const heat = max > min ? (v - min) / (max - min) : 0;
    const grey = picture ? ((picture[p] + 1) / 2) * 110 : 0;
    out[p * 4] = grey + heat * (255 - grey);
    out[p * 4 + 1] = grey + heat * heat * (200 - grey);
    out[p * 4 + 2] = grey * (1 - heat);
    out[p * 4 + 3] = 255;
  });
  return out;
}
