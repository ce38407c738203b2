/**
 * Is a sample a copy of a training image? The nearest training images to a query by Euclidean
 * distance, and the yardstick the answer needs: how near the training images lie to *each other*.
 * A sample closer to a training image than almost every training image is to its own nearest
 * neighbour was most likely memorised (small data sets do this; Somepalli et al. 2023, Carlini et
 * al. 2023 measure it the same way, by nearest-neighbour distance). Pure and tfjs-free: plain
 * arrays in, numbers out, so the worker and Node run the same code.
 */

/** `count` vectors of `dim` values each, row after row: images (pixels) or classifier features. */
export interface Rows {
  values: ArrayLike<number>;
  count: number;
  dim: number;
}

export interface Neighbour {
  /** The row's index in the set. */
  index: number;
  /** Euclidean distance to the query, in the rows' own units. */
  distance: number;
}

/**
 * The k rows of `set` nearest to `query`, nearest first (ties: the lower index first); `skip` leaves
 * one row out (a query that is itself a row of the set). Exact: a row that cannot enter the top k is
 * abandoned as soon as its partial sum exceeds the k-th best, which changes no result.
 */
export function nearestRows(query: ArrayLike<number>, set: Rows, k: number, skip = -1): Neighbour[] {
  const { values, count, dim } = set;
  if (query.length !== dim) throw new RangeError(`the query has ${query.length} values; the set's rows have ${dim}`);
  // best k as squared distances, ascending
  const best: { index: number; d2: number }[] = [];
  let bound = Infinity;
  const stride = Math.max(1, Math.min(dim, 32)); // check the bound every `stride` values
  for (let r = 0; r < count; r++) {
    if (r === skip) continue;
    const base = r * dim;
    let d2 = 0;
    for (let j = 0; j < dim;) {
      const end = Math.min(dim, j + stride);
      for (; j < end; j++) {
        const diff = query[j] - values[base + j];
        d2 += diff * diff;
      }
      if (d2 > bound) break;
    }
    if (d2 > bound || (d2 === bound && best.length === k)) continue;
    let at = best.length;
    while (at > 0 && best[at - 1].d2 > d2) at--;
    best.splice(at, 0, { index: r, d2 });
    if (best.length > k) best.pop();
    if (best.length === k) bound = best[k - 1].d2;
  }
  return best.map(({ index, d2 }) => ({ index, distance: Math.sqrt(d2) }));
}

/**
 * The data's own nearest-pair distances: for each of `queries` rows spread evenly through the set,
 * the distance to its nearest *other* row; sorted ascending. The yardstick `closeness` reads a
 * sample's distance against.
 */
export function nearestPairDistances(set: Rows, queries: number): Float64Array {
  const n = Math.min(set.count, Math.max(0, Math.floor(queries)));
  if (set.count < 2 || n === 0) return new Float64Array(0);
  const out = new Float64Array(n);
  for (let q = 0; q < n; q++) {
    const r = Math.floor((q * set.count) / n);
    const row = rowOf(set, r);
    out[q] = nearestRows(row, set, 1, r)[0].distance;
  }
  return out.sort();
}

/** Row `r` of a set as its own array (a view where the values allow one). */
export function rowOf(set: Rows, r: number): ArrayLike<number> {
  const { values, dim } = set;
  if (ArrayBuffer.isView(values)) return (values as unknown as Float32Array).subarray(r * dim, (r + 1) * dim);
  return Array.prototype.slice.call(values, r * dim, (r + 1) * dim) as number[];
}

/** How many reference rows a set can afford for its yardstick: ~`budget` multiply-adds in all, at least `min`, at most `max`. */
export function yardstickQueries(set: Pick<Rows, 'count' | 'dim'>, budget = 2.5e9, min = 50, max = 300): number {
  return Math.min(set.count, Math.max(min, Math.min(max, Math.floor(budget / Math.max(1, set.count * set.dim)))));
}

export type Verdict = 'copy' | 'close' | 'apart';

/** Below this share of the data's own nearest-pair distances a sample reads as a copy. */
export const COPY_SHARE = 0.01;
/** Below this share, as close as only the nearest few training pairs: possibly memorised. */
export const CLOSE_SHARE = 0.1;

export interface Closeness {
  /** The share of the yardstick's distances below `distance` (0: closer than every training image is to its nearest neighbour). */
  share: number;
  verdict: Verdict;
}

/**
 * A sample's nearest-neighbour distance read against the data's own nearest-pair distances (sorted
 * ascending): 'copy' when fewer than 1 % of training images lie as close to another training image
 * (an exact copy, distance 0, always), 'close' under 10 %, else 'apart'. Null without a yardstick.
 */
export function closeness(distance: number, yardstick: Float64Array): Closeness | null {
  if (yardstick.length === 0) return null;
  let below = 0;
  while (below < yardstick.length && yardstick[below] < distance) below++;
  const share = below / yardstick.length;
  return { share, verdict: distance === 0 || share < COPY_SHARE ? 'copy' : share < CLOSE_SHARE ? 'close' : 'apart' };
}
