import { ModelLoadError } from '../model-error';

/** A tensor read from a checkpoint file: PyTorch's shape and layout, values widened to float32. */
export interface RawTensor {
  shape: number[];
  values: Float32Array;
}

/** The element types a checkpoint may store, and their sizes in bytes. */
export const DTYPE_BYTES = { F32: 4, F16: 2, BF16: 2 } as const;
export type StoredDtype = keyof typeof DTYPE_BYTES;

/** `count` little-endian elements of `dtype` at `offset` of `bytes`, as float32 (a copy). */
export function decodeElements(bytes: Uint8Array, offset: number, count: number, dtype: StoredDtype): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, count * DTYPE_BYTES[dtype]);
  const out = new Float32Array(count);
  if (dtype === 'F32') for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
  else if (dtype === 'F16') for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
  else {
    // bfloat16 is the top half of a float32
    const word = new DataView(new ArrayBuffer(4));
    for (let i = 0; i < count; i++) {
      word.setUint32(0, view.getUint16(2 * i, true) << 16, true);
      out[i] = word.getFloat32(0, true);
    }
  }
  return out;
}

/** IEEE 754 half → number. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/** A tensor's element count from its shape, refusing shapes that are not lists of non-negative integers. */
export function elementCount(name: string, shape: unknown): number {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && (d as number) >= 0))
    throw new ModelLoadError(`tensor '${name}' has an invalid shape ${JSON.stringify(shape)}`);
  return (shape as number[]).reduce((a, b) => a * b, 1);
}
