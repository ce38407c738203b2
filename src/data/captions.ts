import { words } from '../text/tokenizer';

/**
 * Captions for a person's pictures, for training a text-conditioned model: from a captions file
 * dropped with the pictures, or else from each picture's file name. Pure (names and texts in,
 * captions and messages out), so the worker and the tests run the same code.
 *
 * The captions files, by name (any folder; a line's file name is looked up beside its captions file,
 * then by its bare name):
 * - `captions.txt`: one `file<TAB>caption` or `file: caption` per line;
 * - `captions.csv`: `file,caption` per line, no header; a caption with commas in double quotes ("" for a quote);
 * - `captions.jsonl`: one `{"file": "a.png", "caption": "a small 3"}` per line.
 * Blank lines are skipped. Nothing a captions file gets wrong loses a picture: a picture it leaves
 * without a (usable) caption is captioned by its file name, and every such case gets a message.
 */
export const CAPTIONS_FILES = ['captions.txt', 'captions.csv', 'captions.jsonl'] as const;

/** Words a text model trained here reads: its 16 tokens are <start> and 15 words (src/training/presets.ts). */
export const MAX_CAPTION_WORDS = 15;

/** Messages of one kind beyond this many are summed up in one line. */
const MAX_MESSAGES = 5;

const baseName = (path: string) => path.slice(path.lastIndexOf('/') + 1);
const folderOf = (path: string) => path.slice(0, path.lastIndexOf('/') + 1);

export const isCaptionsFile = (path: string): boolean => (CAPTIONS_FILES as readonly string[]).includes(baseName(path).toLowerCase());

/** A captions file as dropped: its path below what was dropped or picked, and its text. */
export interface CaptionsText {
  path: string;
  text: string;
}

/**
 * A picture's caption from its file name: the extension and a trailing `_<number>` (or `-<number>`)
 * dropped, '-' and '_' read as spaces ("a-small-3_12.png" → "a small 3").
 */
export function captionFromFileName(path: string): string {
  const stem = baseName(path).replace(/\.[^.]*$/, '');
  return stem
    .replace(/[-_]\d+$/, '')
    .replace(/[-_]+/g, ' ')
    .trim();
}

interface CaptionLine {
  /** The file name as the line gives it. */
  file: string;
  caption: string;
  /** 1-based, for messages. */
  line: number;
}

/** A `captions.csv` field at `from`: quoted ("" is a quote) or up to the next comma; null when a quote is never closed. */
function csvField(line: string, from: number): { value: string; next: number } | null {
  if (line[from] !== '"') {
    const comma = line.indexOf(',', from);
    return comma < 0 ? { value: line.slice(from), next: line.length } : { value: line.slice(from, comma), next: comma + 1 };
  }
  let value = '';
  for (let i = from + 1; i < line.length; i++) {
    if (line[i] !== '"') value += line[i];
    else if (line[i + 1] === '"') {
      value += '"';
      i++;
    } else return { value, next: line[i + 1] === ',' ? i + 2 : i + 1 };
  }
  return null;
}

/** One line of a captions file as [file, caption], or why it cannot be read. */
function readLine(format: string, line: string): [string, string] | string {
  if (format === 'captions.jsonl') {
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      return 'is not JSON';
    }
    const o = v as { file?: unknown; caption?: unknown } | null;
    return o !== null && typeof o === 'object' && typeof o.file === 'string' && typeof o.caption === 'string'
      ? [o.file, o.caption]
      : 'needs an object with a "file" and a "caption" string';
  }
  if (format === 'captions.csv') {
    const file = csvField(line, 0);
    if (!file) return 'has a quote that is never closed';
    // the file name must end at a comma: the caption follows it
    if (line[file.next - 1] !== ',') return 'needs a file name, a comma, then the caption';
    const caption = csvField(line, file.next);
    return caption ? [file.value, caption.value] : 'has a quote that is never closed';
  }
  const tab = line.indexOf('\t');
  const at = tab >= 0 ? tab : line.indexOf(':');
  return at < 0 ? "needs a file name, then a tab or ':', then the caption" : [line.slice(0, at), line.slice(at + 1)];
}

/** The lines of a captions file, and a message for each it cannot read. */
function parseCaptionsFile(file: CaptionsText): { lines: CaptionLine[]; problems: string[] } {
  const format = baseName(file.path).toLowerCase();
  const lines: CaptionLine[] = [];
  const problems: string[] = [];
  file.text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((text, i) => {
      if (!text.trim()) return;
      const read = readLine(format, text);
      if (typeof read === 'string') problems.push(`${file.path} line ${i + 1} ${read}; it is skipped`);
      else lines.push({ file: read[0].trim().replace(/\\/g, '/').replace(/^\.\//, ''), caption: read[1].trim(), line: i + 1 });
    });
  return { lines, problems };
}

/** At most MAX_MESSAGES of a kind, then one line for the rest. */
function capped(messages: string[], rest: (n: number) => string): string[] {
  return messages.length <= MAX_MESSAGES ? messages : [...messages.slice(0, MAX_MESSAGES), rest(messages.length - MAX_MESSAGES)];
}

const listed = (names: string[]) => (names.length <= 3 ? names.join(', ') : `${names.slice(0, 3).join(', ')} and ${names.length - 3} more`);

export interface Captioned {
  /** The caption of each picture, in order ('' = no words: it trains as the empty prompt). */
  captions: string[];
  /** What went wrong, for the person: each names the file, the line or the picture. */
  problems: string[];
}

/**
 * Each picture's caption (pictures by their paths, in order): its line in a captions file, else its
 * file name's words; a caption over `maxWords` words keeps its first `maxWords`.
 */
export function assignCaptions(pictures: readonly string[], files: readonly CaptionsText[], maxWords = MAX_CAPTION_WORDS): Captioned {
  const problems: string[] = [];
  const byPath = new Map(pictures.map((p, i) => [p, i]));
  const byName = new Map<string, number | null>(); // null: two pictures have this name
  pictures.forEach((p, i) => byName.set(baseName(p), byName.has(baseName(p)) ? null : i));
  /** Each picture's caption from a captions file, with where it came from. */
  const given = new Map<number, { caption: string; where: string }>();
  /** Pictures some line names (an empty caption's too: it has its own message). */
  const named = new Set<number>();

  for (const file of files) {
    const { lines, problems: unreadable } = parseCaptionsFile(file);
    problems.push(...capped(unreadable, (n) => `${file.path}: ${n} more lines cannot be read`));
    const matched: { line: CaptionLine; picture: number }[] = [];
    const unmatched: CaptionLine[] = [];
    for (const line of lines) {
      const picture = byPath.get(folderOf(file.path) + line.file) ?? byName.get(baseName(line.file)) ?? undefined;
      if (picture === undefined) unmatched.push(line);
      else matched.push({ line, picture });
    }
    if (matched.length === 0) {
      // no pictures yet (a captions file dropped first): nothing to say until they come
      if (pictures.length)
        problems.push(
          lines.length === 0
            ? `${file.path} has no captions in it`
            : `${file.path} names none of the ${pictures.length === 1 ? 'picture' : `${pictures.length} pictures`} (it names ${listed(unmatched.map((l) => l.file))}); check the file names, or that the pictures were added`,
        );
      continue;
    }
    problems.push(
      ...capped(
        unmatched.map((l) => `${file.path} line ${l.line} names ${l.file}, which is not among the pictures; it is skipped`),
        (n) => `${file.path}: ${n} more lines name pictures that were not added`,
      ),
    );
    for (const { line, picture } of matched) {
      named.add(picture);
      const where = `${file.path} line ${line.line}`;
      const before = given.get(picture);
      if (before) problems.push(`${where} captions ${pictures[picture]} again (${before.where} did already); the first is used`);
      else if (words(line.caption).length === 0)
        problems.push(`${where}: the caption of ${pictures[picture]} is empty; it is captioned by its file name instead`);
      else given.set(picture, { caption: line.caption, where });
    }
  }

  const missing = files.length ? pictures.filter((_, i) => !named.has(i)) : [];
  if (missing.length && named.size)
    problems.push(
      `${missing.length === 1 ? '1 picture has' : `${missing.length} pictures have`} no caption in ${files.map((f) => f.path).join(' or ')} (${listed(missing)}); ${missing.length === 1 ? 'it is' : 'they are'} captioned by ${missing.length === 1 ? 'its file name' : 'their file names'}`,
    );

  const tooLong: string[] = [];
  const empty: string[] = [];
  const captions = pictures.map((path, i) => {
    const caption = given.get(i)?.caption ?? captionFromFileName(path);
    const ws = words(caption);
    if (ws.length === 0) empty.push(path);
    if (ws.length <= maxWords) return caption;
    tooLong.push(
      `the caption of ${path} (${given.get(i)?.where ?? 'its file name'}) has ${ws.length} words; a model trained here reads ${maxWords}, so '${ws.slice(maxWords).join(' ')}' is cut`,
    );
    return ws.slice(0, maxWords).join(' ');
  });
  problems.push(...capped(tooLong, (n) => `${n} more captions are longer than ${maxWords} words and are cut`));
  if (empty.length)
    problems.push(
      `${listed(empty)} ${empty.length === 1 ? 'has' : 'have'} no words in ${empty.length === 1 ? 'its caption' : 'their captions'}; ${empty.length === 1 ? 'it trains' : 'they train'} as the empty prompt`,
    );
  return { captions, problems };
}
