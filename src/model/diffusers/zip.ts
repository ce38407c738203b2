import { ModelLoadError } from '../model-error';

/** An entry of a zip archive: its name and where its (stored or deflated) bytes lie. */
interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

/**
 * A minimal zip reader for PyTorch's checkpoint archives (torch.save: `<name>/data.pkl`,
 * `<name>/data/<key>`, …, stored, sometimes with Zip64 records): the central directory is read
 * and checked against the file; entries are stored or deflated (DecompressionStream).
 */
export class ZipReader {
  readonly entries = new Map<string, ZipEntry>();
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    const eocd = this.findEocd();
    let count = this.view.getUint16(eocd + 10, true);
    let cdOffset = this.view.getUint32(eocd + 16, true);
    if (count === 0xffff || cdOffset === 0xffffffff) {
      const locator = eocd - 20;
      if (locator < 0 || this.view.getUint32(locator, true) !== ZIP64_LOCATOR)
        throw new ModelLoadError('the .bin archive is damaged (no Zip64 locator)');
      const record = this.u64(locator + 8);
      if (record + 56 > bytes.length || this.view.getUint32(record, true) !== ZIP64_EOCD)
        throw new ModelLoadError('the .bin archive is damaged (Zip64 record)');
      count = this.u64(record + 32);
      cdOffset = this.u64(record + 48);
    }
    let at = cdOffset;
    for (let i = 0; i < count; i++) {
      if (at + 46 > bytes.length || this.view.getUint32(at, true) !== CENTRAL)
        throw new ModelLoadError('the .bin archive is truncated or damaged (central directory)');
      const nameLength = this.view.getUint16(at + 28, true);
      const extraLength = this.view.getUint16(at + 30, true);
      const commentLength = this.view.getUint16(at + 32, true);
      const name = new TextDecoder().decode(bytes.subarray(at + 46, at + 46 + nameLength));
      let compressedSize = this.view.getUint32(at + 20, true);
      let size = this.view.getUint32(at + 24, true);
      let localOffset = this.view.getUint32(at + 42, true);
      // Zip64 extra field: the 64-bit values of the fields that read 0xFFFFFFFF, in this order
      for (let e = at + 46 + nameLength; e + 4 <= at + 46 + nameLength + extraLength;) {
        const id = this.view.getUint16(e, true);
        const length = this.view.getUint16(e + 2, true);
        if (id === 0x0001) {
          let p = e + 4;
          if (size === 0xffffffff) {
            size = this.u64(p);
            p += 8;
          }
          if (compressedSize === 0xffffffff) {
            compressedSize = this.u64(p);
            p += 8;
          }
          if (localOffset === 0xffffffff) localOffset = this.u64(p);
        }
        e += 4 + length;
      }
      this.entries.set(name, { name, method: this.view.getUint16(at + 10, true), compressedSize, size, localOffset });
      at += 46 + nameLength + extraLength + commentLength;
    }
  }

  /** The names of the entries. */
  names(): string[] {
    return [...this.entries.keys()];
  }

  /** An entry's bytes (a view for a stored entry). */
  async read(name: string): Promise<Uint8Array> {
    const e = this.entries.get(name);
    if (!e) throw new ModelLoadError(`the .bin archive has no entry '${name}'`);
    const at = e.localOffset;
    if (at + 30 > this.bytes.length || this.view.getUint32(at, true) !== LOCAL)
      throw new ModelLoadError(`the .bin archive is damaged (entry '${name}')`);
    const start = at + 30 + this.view.getUint16(at + 26, true) + this.view.getUint16(at + 28, true);
    if (start + e.compressedSize > this.bytes.length) throw new ModelLoadError(`the .bin archive is truncated (entry '${name}')`);
    const raw = this.bytes.subarray(start, start + e.compressedSize);
    if (e.method === 0) return raw;
    if (e.method !== 8)
      throw new ModelLoadError(`the .bin archive uses compression method ${e.method}; stored and deflated entries are read`);
    const stream = new Blob([raw.slice()]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
    const out = new Uint8Array(await new Response(stream).arrayBuffer());
    if (out.length !== e.size)
      throw new ModelLoadError(`the .bin archive is damaged (entry '${name}' inflates to ${out.length} bytes, not ${e.size})`);
    return out;
  }

  private findEocd(): number {
    for (let at = this.bytes.length - 22; at >= Math.max(0, this.bytes.length - 22 - 65535); at--)
      if (this.view.getUint32(at, true) === EOCD) return at;
    throw new ModelLoadError('not a zip archive (a PyTorch .bin is one): no end-of-directory record — truncated or another format');
  }

  private u64(at: number): number {
    if (at + 8 > this.bytes.length) throw new ModelLoadError('the .bin archive is truncated');
    const v = this.view.getBigUint64(at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ModelLoadError('the .bin archive is damaged (an offset beyond any file)');
    return Number(v);
  }
}

/** CRC-32 (ISO 3309, the zip format's), by the byte-wise table. */
const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * A zip archive of `files` (path → bytes or text), stored without compression (safetensors weights
 * barely deflate): local headers and data, then the central directory and its end record. What the
 * page saves a diffusers folder as; any unzip tool, and ZipReader, read it. Under 4 GB in all (no Zip64).
 */
export function writeZip(files: Record<string, Uint8Array | string>): Uint8Array {
  const entries = Object.entries(files).map(([name, data]) => {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    return { name: new TextEncoder().encode(name), bytes, crc: crc32(bytes), offset: 0 };
  });
  const localSize = entries.reduce((n, e) => n + 30 + e.name.length + e.bytes.length, 0);
  const centralSize = entries.reduce((n, e) => n + 46 + e.name.length, 0);
  if (localSize + centralSize + 22 >= 2 ** 32) throw new RangeError('a zip of 4 GB or more needs Zip64, which this writer does not write');
  const out = new Uint8Array(localSize + centralSize + 22);
  const view = new DataView(out.buffer);
  let at = 0;
  /** The fields local and central headers share from "version needed" on: version, flags, method, time, date (1980-01-01), CRC, sizes, name length. */
  const common = (p: number, e: (typeof entries)[number]) => {
    view.setUint16(p, 20, true);
    view.setUint16(p + 8, 0x21, true);
    view.setUint32(p + 10, e.crc, true);
    view.setUint32(p + 14, e.bytes.length, true);
    view.setUint32(p + 18, e.bytes.length, true);
    view.setUint16(p + 22, e.name.length, true);
  };
  for (const e of entries) {
    e.offset = at;
    view.setUint32(at, LOCAL, true);
    common(at + 4, e);
    out.set(e.name, at + 30);
    out.set(e.bytes, at + 30 + e.name.length);
    at += 30 + e.name.length + e.bytes.length;
  }
  const central = at;
  for (const e of entries) {
    view.setUint32(at, CENTRAL, true);
    view.setUint16(at + 4, 20, true); // version made by
    common(at + 6, e);
    view.setUint32(at + 42, e.offset, true);
    out.set(e.name, at + 46);
    at += 46 + e.name.length;
  }
  view.setUint32(at, EOCD, true);
  view.setUint16(at + 8, entries.length, true);
  view.setUint16(at + 10, entries.length, true);
  view.setUint32(at + 12, at - central, true);
  view.setUint32(at + 16, central, true);
  return out;
}
