import type { Schedule } from './schedule';
import type { Timestep } from './timestep';

/**
 * x_t = √ᾱ_t x0 + √(1 − ᾱ_t) ε — eq. (4) — on plain arrays, for the page's slider: a few thousand
 * values, no tensors, no worker. `t` null is the clean image itself (x0).
 */
export function noisedValues(schedule: Schedule, x0: ArrayLike<number>, noise: ArrayLike<number>, t: Timestep | null): Float32Array {
  if (x0.length !== noise.length) throw new RangeError(`x0 has ${x0.length} values and ε ${noise.length}; they must match`);
  if (t === null) return Float32Array.from(x0);
  const ac = schedule.alphasCumprod[t];
  const a = Math.sqrt(ac);
  const b = Math.sqrt(1 - ac);
  return Float32Array.from(x0, (v, i) => a * v + b * noise[i]);
}
