export interface SeededNormalState {
  seed: number;
  words: [number, number, number, number];
  spare: number | null;
}

/**
 * Seeded standard-normal noise, identical on every platform (plain JS, no tensors: the page draws
 * the forward process' ε with it, the worker its tensors through GaussianRng): the same seed gives the same sequence of noise tensors and therefore the
 * same sampling trajectory.
 * Uniforms from xoshiro128** (seeded through splitmix32); normals by the Box–Muller transform.
 */
export class SeededNormal {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number | null = null;

  constructor(readonly seed: number) {
    if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
    let x = seed >>> 0;
    const splitmix32 = () => {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = splitmix32();
    this.s1 = splitmix32();
    this.s2 = splitmix32();
    this.s3 = splitmix32();
  }

  /** The generator's full state (for checkpoints): restore with GaussianRng.fromState. */
  getState(): SeededNormalState {
    return { seed: this.seed, words: [this.s0, this.s1, this.s2, this.s3], spare: this.spare };
  }

  /** Continues from a state saved with getState. */
  protected restore(state: SeededNormalState): this {
    [this.s0, this.s1, this.s2, this.s3] = state.words;
    this.spare = state.spare;
    return this;
  }

  /** Uniform in (0, 1), never 0 (so log() in Box–Muller is finite). */
  uniform(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return (result + 0.5) / 4294967296;
  }

  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    const r = Math.sqrt(-2 * Math.log(this.uniform()));
    const theta = 2 * Math.PI * this.uniform();
    this.spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** n standard-normal values. */
  normalArray(n: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.normal();
    return out;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
