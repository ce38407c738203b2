/**
 * NumPy's .npy format (version 1.0/2.0): the magic "\x93NUMPY", a version, a header length, a Python
 * dict literal { 'descr': '<f4', 'fortran_order': False, 'shape': (…), } padded to 64 bytes, then the
 * C-order data. Read: float32, float64, int32 and int64, little-endian, and uint8 and bool (NumPy's
 * images and masks, e.g. tools/torch/emoji_data.py's); written: float32.
 */
export interface NpyArray {
  shape: number[];
  /** int64 values are read as numbers (exact up to 2^53). */
  values: Float32Array | Float64Array | Int32Array | Uint8Array;
  dtype: 'f4' | 'f8' | 'i4' | 'i8' | 'u1' | 'b1';
}

export class NpyError extends Error {
  override name = 'NpyError';
}

export function readNpy(bytes: Uint8Array, what = 'the .npy file'): NpyArray {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || !magic.every((m, i) => bytes[i] === m)) throw new NpyError(`${what} is not a .npy file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const major = bytes[6];
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = (major === 1 ? 10 : 12) + headerLength;
  const header = new TextDecoder().decode(bytes.subarray(major === 1 ? 10 : 12, start));
  const descr = /'descr':\s*'([<>|=]?)([a-z]\d)'/.exec(header);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !shape) throw new NpyError(`${what}: cannot read its header`);
  if (/'fortran_order':\s*True/.test(header)) throw new NpyError(`${what} is in Fortran order; save it C-ordered`);
  if (descr[1] === '>') throw new NpyError(`${what} is big-endian`);
  const dims = shape[1]
    .split(',')
    .map((d) => d.trim())
    .filter((d) => d !== '')
    .map(Number);
  const count = dims.reduce((a, b) => a * b, 1);
  const dtype = descr[2];
  const size = { f4: 4, f8: 8, i4: 4, i8: 8, u1: 1, b1: 1 }[dtype];
  if (!size) throw new NpyError(`${what} holds ${dtype}; float32, float64, int32, int64, uint8 and bool are read`);
  if (start + count * size > bytes.length) throw new NpyError(`${what} is truncated`);
  const at = (i: number) => start + i * size;
  let values: NpyArray['values'];
  if (dtype === 'f4') values = Float32Array.from({ length: count }, (_, i) => view.getFloat32(at(i), true));
  else if (dtype === 'f8') values = Float64Array.from({ length: count }, (_, i) => view.getFloat64(at(i), true));
  else if (dtype === 'u1' || dtype === 'b1') values = bytes.slice(start, start + count);
  else if (dtype === 'i4') values = Int32Array.from({ length: count }, (_, i) => view.getInt32(at(i), true));
  else values = Float64Array.from({ length: count }, (_, i) => Number(view.getBigInt64(at(i), true)));
  return { shape: dims, values, dtype: dtype as NpyArray['dtype'] };
}

export function writeNpy(values: Float32Array, shape: number[]): Uint8Array {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const out = new Uint8Array(10 + header.length + values.length * 4);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  const view = new DataView(out.buffer, 10 + header.length);
  values.forEach((v, i) => view.setFloat32(4 * i, v, true));
  return out;
}
