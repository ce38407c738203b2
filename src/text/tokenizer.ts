/**
 * The text model's tokenizer: a prompt is lower-cased and split into words (runs of letters or
 * digits; everything else separates), each word looked up in the model's vocabulary. Id 0 pads a
 * prompt to the model's length and id 1 starts every prompt (the encoder's pooled output is read
 * there), so the empty prompt is the start token alone. Words the vocabulary lacks are reported,
 * never silently dropped. Pure: tools/torch reads prompts already tokenized by this module.
 */
export const PAD = '<pad>';
export const START = '<start>';
export const PAD_ID = 0;
export const START_ID = 1;

/** The words of a prompt, in order ("A small 3, top-left" → a, small, 3, top, left). */
export function words(prompt: string): string[] {
  return prompt.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** A vocabulary from captions: the two special tokens, then every word that occurs, sorted. */
export function buildVocabulary(captions: Iterable<string>): string[] {
  const seen = new Set<string>();
  for (const c of captions) for (const w of words(c)) seen.add(w);
  return [PAD, START, ...[...seen].sort()];
}

export interface Tokens {
  /** START, the known words' ids, then PAD to `length`. */
  ids: number[];
  /** The prompt's words in order, each with its id or null when the model does not know it. */
  words: { word: string; id: number | null }[];
  /** Words the vocabulary lacks, in order of first appearance. */
  unknown: string[];
  /** Known words beyond what the model reads (length − 1 of them fit). */
  truncated: string[];
}

/** A prompt as `length` token ids for a model with this vocabulary. */
export function tokenize(prompt: string, vocabulary: readonly string[], length: number): Tokens {
  const index = new Map(vocabulary.map((w, i) => [w, i]));
  const found = words(prompt).map((word) => {
    const id = index.get(word);
    return { word, id: id === undefined || id <= START_ID ? null : id };
  });
  const known = found.filter((w) => w.id !== null);
  const ids = [START_ID, ...known.slice(0, length - 1).map((w) => w.id!)];
  while (ids.length < length) ids.push(PAD_ID);
  return {
    ids,
    words: found,
    unknown: [...new Set(found.filter((w) => w.id === null).map((w) => w.word))],
    truncated: known.slice(length - 1).map((w) => w.word),
  };
}

/** What a person reads about a prompt's words the model will not see; null when there is nothing to say. */
export function describeUnread(tokens: Pick<Tokens, 'unknown' | 'truncated'>): string | null {
  const parts: string[] = [];
  const quote = (ws: string[]) => ws.map((w) => `'${w}'`).join(', ');
  if (tokens.unknown.length) parts.push(`the model doesn't know ${quote(tokens.unknown)}`);
  if (tokens.truncated.length)
    parts.push(`it reads only the first words: ${quote(tokens.truncated)} ${tokens.truncated.length > 1 ? 'are' : 'is'} cut`);
  return parts.length ? parts.join('; ') : null;
}
