import { ModelLoadError } from '../model-error';
import { decodeElements, DTYPE_BYTES, elementCount, type RawTensor, type StoredDtype } from './tensors';

/** The largest header a reader accepts (real ones are kilobytes; a lying length is refused before any allocation). */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

/**
 * Reads a .safetensors file (Hugging Face's format): an 8-byte little-endian header length N, N
 * bytes of JSON (name → { dtype, shape, data_offsets: [begin, end] } relative to the data that
 * follows, plus an optional __metadata__), then the raw little-endian data. Every claim is checked
 * against the file before use: the header's length and JSON, each dtype (F32, F16, BF16), each
 * shape against its byte range, each range inside the file. Values are widened to float32.
 */
export function readSafetensors(bytes: Uint8Array): Map<string, RawTensor> {
  if (bytes.length < 8) throw new ModelLoadError('the safetensors file is truncated (no header)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > MAX_HEADER_BYTES)
    throw new ModelLoadError(`the safetensors header claims ${headerLength.toLocaleString('en')} bytes: not a plausible file`);
  if (8 + headerLength > bytes.length)
    throw new ModelLoadError(
      `the safetensors file is truncated: its header claims ${headerLength} bytes, the file has ${bytes.length - 8} after the length`,
    );
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength)));
  } catch {
    throw new ModelLoadError('the safetensors header is not valid JSON');
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header))
    throw new ModelLoadError('the safetensors header is not an object');
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const out = new Map<string, RawTensor>();
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') continue;
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e !== 'object' || e === null) throw new ModelLoadError(`tensor '${name}': its header entry is not an object`);
    if (typeof e.dtype !== 'string' || !(e.dtype in DTYPE_BYTES))
      throw new ModelLoadError(`tensor '${name}' has dtype ${JSON.stringify(e.dtype)}; the playground reads F32, F16 and BF16 weights`);
    const dtype = e.dtype as StoredDtype;
    const count = elementCount(name, e.shape);
    const offsets = e.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && (o as number) >= 0))
      throw new ModelLoadError(`tensor '${name}' has invalid data_offsets ${JSON.stringify(offsets)}`);
    const [begin, end] = offsets as [number, number];
    if (end > dataLength)
      throw new ModelLoadError(`tensor '${name}' ends at byte ${end} of the data, which has ${dataLength}: the file is truncated or lies`);
    if (end - begin !== count * DTYPE_BYTES[dtype])
      throw new ModelLoadError(
        `tensor '${name}' has shape [${String(e.shape)}] of ${dtype} (${count * DTYPE_BYTES[dtype]} bytes) but ${end - begin} bytes of data`,
      );
    out.set(name, { shape: e.shape as number[], values: decodeElements(bytes, dataStart + begin, count, dtype) });
  }
  return out;
}

/**
 * A .safetensors file of float32 tensors, in the order given: the 8-byte header length, the JSON
 * header (padded with spaces to a multiple of 8, as Hugging Face's writer does, so the data is
 * aligned), then each tensor's little-endian bytes.
 */
export function writeSafetensors(tensors: ReadonlyMap<string, RawTensor>): Uint8Array {
  const header: Record<string, { dtype: 'F32'; shape: number[]; data_offsets: [number, number] }> = {};
  let offset = 0;
  for (const [name, t] of tensors) {
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + 4 * t.values.length] };
    offset += 4 * t.values.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (new TextEncoder().encode(json).length % 8)) % 8);
  const text = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + text.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(text.length), true);
  out.set(text, 8);
  let at = 8 + text.length;
  for (const t of tensors.values()) {
    for (let i = 0; i < t.values.length; i++) view.setFloat32(at + 4 * i, t.values[i], true);
    at += 4 * t.values.length;
  }
  return out;
}
