/**
 * What a file is, judged by its bytes rather than its name, and how big a picture it claims to be —
 * read from the header before anything is decoded, so a 12000×12000 image is refused before it can
 * take gigabytes of memory.
 */
export type ImageKind = 'png' | 'jpeg' | 'gif' | 'webp' | 'bmp' | 'svg' | 'unknown';

export interface ImageHeader {
  kind: ImageKind;
  /** Pixel size from the header, when the format has one and the bytes read contain it. */
  width?: number;
  height?: number;
}

const ascii = (b: Uint8Array, at: number, n: number) => String.fromCharCode(...b.subarray(at, at + n));
const u16be = (b: Uint8Array, at: number) => (b[at] << 8) | b[at + 1];
const u16le = (b: Uint8Array, at: number) => b[at] | (b[at + 1] << 8);
const u32be = (b: Uint8Array, at: number) => ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
const i32le = (b: Uint8Array, at: number) => b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24);
const u24le = (b: Uint8Array, at: number) => b[at] | (b[at + 1] << 8) | (b[at + 2] << 16);

const PNG_SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

/** Identifies a file from its first bytes (the more given, the likelier a JPEG's size is found). */
export function sniffImage(b: Uint8Array): ImageHeader {
  if (b.length >= 24 && PNG_SIGNATURE.every((v, i) => b[i] === v) && ascii(b, 12, 4) === 'IHDR')
    return { kind: 'png', width: u32be(b, 16), height: u32be(b, 20) };
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return { kind: 'jpeg', ...jpegSize(b) };
  if (b.length >= 10 && (ascii(b, 0, 6) === 'GIF87a' || ascii(b, 0, 6) === 'GIF89a'))
    return { kind: 'gif', width: u16le(b, 6), height: u16le(b, 8) };
  if (b.length >= 12 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return { kind: 'webp', ...webpSize(b) };
  if (b.length >= 26 && ascii(b, 0, 2) === 'BM') return { kind: 'bmp', width: Math.abs(i32le(b, 18)), height: Math.abs(i32le(b, 22)) };
  if (looksLikeSvg(b)) return { kind: 'svg' };
  return { kind: 'unknown' };
}

/** The first start-of-frame marker's size (SOF0–SOF15 except DHT, JPG and DAC). */
function jpegSize(b: Uint8Array): { width?: number; height?: number } {
  let i = 2;
  while (i + 9 < b.length) {
    if (b[i] !== 0xff) return {};
    const marker = b[i + 1];
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc)
      return { height: u16be(b, i + 5), width: u16be(b, i + 7) };
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      i += 2;
      continue;
    }
    i += 2 + u16be(b, i + 2);
  }
  return {};
}

function webpSize(b: Uint8Array): { width?: number; height?: number } {
  const chunk = ascii(b, 12, 4);
  if (chunk === 'VP8 ' && b.length >= 30) return { width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff };
  if (chunk === 'VP8L' && b.length >= 25) {
    const bits = b[21] | (b[22] << 8) | (b[23] << 16) | (b[24] << 24);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (chunk === 'VP8X' && b.length >= 30) return { width: u24le(b, 24) + 1, height: u24le(b, 27) + 1 };
  return {};
}

function looksLikeSvg(b: Uint8Array): boolean {
  const head = new TextDecoder('utf-8', { fatal: false })
    .decode(b.subarray(0, 4096))
    .replace(/^\uFEFF/, '')
    .trimStart()
    .toLowerCase();
  return (
    (head.startsWith('<?xml') || head.startsWith('<svg') || head.startsWith('<!doctype svg') || head.startsWith('<!--')) &&
    head.includes('<svg')
  );
}

/**
 * Whether a whole PNG file is structurally complete: chunks with consistent lengths, at least one
 * IDAT, ending in IEND. Catches truncated downloads, which some decoders render half-grey instead of
 * failing.
 */
export function pngIsComplete(b: Uint8Array): boolean {
  let i = 8;
  let idat = false;
  while (i + 12 <= b.length) {
    const len = u32be(b, i);
    const type = ascii(b, i + 4, 4);
    if (i + 12 + len > b.length) return false;
    if (type === 'IDAT') idat = true;
    if (type === 'IEND') return idat;
    i += 12 + len;
  }
  return false;
}
