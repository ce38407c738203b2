/**
 * Which steps of a run go in the trajectory strip: for a 1000-step run, displayed t = 1000, 900, …,
 * 100 and 1 (0-based 999, 899, …, 99, 0); for shorter runs, about ten evenly spaced steps plus the last.
 */
export function stripIndices(total: number, slots = 10): Set<number> {
  const keep = new Set<number>([0, total - 1]);
  for (let k = 1; k < slots; k++) keep.add(Math.round((k * total) / slots));
  return keep;
}
