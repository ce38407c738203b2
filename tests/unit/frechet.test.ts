import { describe, expect, it } from 'vitest';
import { GaussianRng } from '../../src/diffusion/random';
import { fitGaussian, frechetDistance, frechetDistanceOf, jacobiEigen, sqrtPsd, type Gaussian } from '../../src/eval/frechet';

/** A random symmetric n × n matrix (row-major). */
function randomSymmetric(n: number, rng: GaussianRng): Float64Array {
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) a[i * n + j] = a[j * n + i] = rng.normal();
  return a;
}

/** A random orthogonal n × n matrix: Gram–Schmidt on the columns of a Gaussian matrix. */
function randomOrthogonal(n: number, rng: GaussianRng): Float64Array {
  const q = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const col = Float64Array.from({ length: n }, () => rng.normal());
    for (let k = 0; k < j; k++) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += col[i] * q[i * n + k];
      for (let i = 0; i < n; i++) col[i] -= dot * q[i * n + k];
    }
    const norm = Math.hypot(...col);
    for (let i = 0; i < n; i++) q[i * n + j] = col[i] / norm;
  }
  return q;
}

/** Q diag(d) Qᵀ. */
function rotated(q: Float64Array, d: number[]): Float64Array {
  const n = d.length;
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) out[i * n + j] += q[i * n + k] * d[k] * q[j * n + k];
  return out;
}

/** N samples of x = μ + L z, z ~ N(0, I), for a fixed random L (correlated features). */
function samples(count: number, n: number, shift: number, seed: number): Float64Array[] {
  const mixing = new GaussianRng(1000 + n);
  const l = Float64Array.from({ length: n * n }, () => mixing.normal() / Math.sqrt(n));
  const rng = new GaussianRng(seed);
  return Array.from({ length: count }, () => {
    const z = Float64Array.from({ length: n }, () => rng.normal());
    return Float64Array.from({ length: n }, (_, i) => shift + z.reduce((s, zk, k) => s + l[i * n + k] * zk, 0));
  });
}

const gaussian = (mean: number[], cov: number[]): Gaussian => ({ mean: Float64Array.from(mean), cov: Float64Array.from(cov) });

describe('Jacobi eigendecomposition', () => {
  it('keeps the trace and Frobenius norm of a random symmetric matrix, with orthonormal eigenvectors', () => {
    const n = 24;
    const a = randomSymmetric(n, new GaussianRng(1));
    const { values, vectors: v } = jacobiEigen(a, n);
    let trace = 0;
    let frobenius2 = 0;
    for (let i = 0; i < n; i++) trace += a[i * n + i];
    for (const x of a) frobenius2 += x * x;
    expect(values.reduce((s, l) => s + l, 0)).toBeCloseTo(trace, 10);
    expect(values.reduce((s, l) => s + l * l, 0)).toBeCloseTo(frobenius2, 9);
    let worstResidual = 0; // |(A v_j)_i − λ_j v_ij|
    let worstOrtho = 0; // |VᵀV − I|
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let av = 0;
        let vv = 0;
        for (let k = 0; k < n; k++) {
          av += a[i * n + k] * v[k * n + j];
          vv += v[k * n + i] * v[k * n + j];
        }
        worstResidual = Math.max(worstResidual, Math.abs(av - values[j] * v[i * n + j]));
        worstOrtho = Math.max(worstOrtho, Math.abs(vv - (i === j ? 1 : 0)));
      }
    expect(worstResidual).toBeLessThan(1e-12);
    expect(worstOrtho).toBeLessThan(1e-13);
  });

  it('takes the square root of a PSD matrix: (A^{1/2})² = A', () => {
    const n = 6;
    const a = rotated(randomOrthogonal(n, new GaussianRng(2)), [4, 1, 0.25, 9, 2, 0]);
    const r = sqrtPsd(a, n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let rr = 0;
        for (let k = 0; k < n; k++) rr += r[i * n + k] * r[k * n + j];
        expect(rr).toBeCloseTo(a[i * n + j], 10);
      }
  });
});

describe('fitGaussian', () => {
  it('is the sample mean and the unbiased (N − 1) covariance', () => {
    // x = 1, 3, 5; y = 2, 6, 7: mean (3, 5); var x = 8/2, cov = 10/2, var y = 14/2
    const { mean, cov } = fitGaussian([
      [1, 2],
      [3, 6],
      [5, 7],
    ]);
    expect(Array.from(mean)).toEqual([3, 5]);
    expect(Array.from(cov)).toEqual([4, 5, 5, 7]);
  });
});

describe('Fréchet distance', () => {
  it('is ~0 between a feature set and itself', () => {
    const x = samples(400, 16, 0.5, 3);
    const { cov } = fitGaussian(x);
    const scale = Array.from({ length: 16 }, (_, i) => cov[i * 16 + i]).reduce((s, v) => s + v, 0);
    expect(Math.abs(frechetDistanceOf(x, x))).toBeLessThan(1e-10 * scale);
  });

  it('is Σ(√aᵢ − √bᵢ)² + ‖Δμ‖² for diagonal covariances', () => {
    const a = [1, 4, 0.5, 2];
    const b = [9, 1, 0.5, 3];
    const g1 = gaussian(
      [0, 1, 2, 3],
      a.flatMap((v, i) => a.map((_, j) => (i === j ? v : 0))),
    );
    const g2 = gaussian(
      [1, 1, 0, 3],
      b.flatMap((v, i) => b.map((_, j) => (i === j ? v : 0))),
    );
    const expected = a.reduce((s, ai, i) => s + (Math.sqrt(ai) - Math.sqrt(b[i])) ** 2, 0) + 1 + 4;
    expect(frechetDistance(g1, g2)).toBeCloseTo(expected, 12);
  });

  it('is Σ(√aᵢ − √bᵢ)² + ‖Δμ‖² for commuting non-diagonal covariances Q diag(a) Qᵀ, Q diag(b) Qᵀ', () => {
    const q = randomOrthogonal(6, new GaussianRng(4));
    const a = [1, 4, 0.5, 2, 7, 0];
    const b = [9, 1, 0.5, 3, 0.1, 2];
    const mu1 = [0.3, -1, 2, 0, 1, 1];
    const mu2 = [0, 0, 0, 0, 0, 0];
    const expected = a.reduce((s, ai, i) => s + (Math.sqrt(ai) - Math.sqrt(b[i])) ** 2 + (mu1[i] - mu2[i]) ** 2, 0);
    const d = frechetDistance({ mean: Float64Array.from(mu1), cov: rotated(q, a) }, { mean: Float64Array.from(mu2), cov: rotated(q, b) });
    // a zero eigenvalue is only known to ~ε‖Σ‖ after rounding, so its square root to ~√ε ≈ 10⁻⁸
    expect(d).toBeCloseTo(expected, 7);
  });

  it('matches the 2×2 closed form Tr((Σ₁Σ₂)^{1/2}) = √(Tr Σ₁Σ₂ + 2√(det Σ₁ det Σ₂)) for non-commuting covariances', () => {
    // For a 2×2 matrix with eigenvalues λ₁, λ₂ ≥ 0: (√λ₁ + √λ₂)² = Tr + 2√det.
    const s1 = [2, 0.8, 0.8, 1];
    const s2 = [0.5, -0.3, -0.3, 3];
    const trProduct = s1[0] * s2[0] + s1[1] * s2[2] + s1[2] * s2[1] + s1[3] * s2[3];
    const det = (m: number[]) => m[0] * m[3] - m[1] * m[2];
    const traceRoot = Math.sqrt(trProduct + 2 * Math.sqrt(det(s1) * det(s2)));
    const expected = (1 - 0) ** 2 + (2 - 4) ** 2 + s1[0] + s1[3] + s2[0] + s2[3] - 2 * traceRoot;
    expect(frechetDistance(gaussian([1, 2], s1), gaussian([0, 4], s2))).toBeCloseTo(expected, 12);
  });

  it('is symmetric, positive between different sets, and finite for rank-deficient covariances', () => {
    const x = samples(300, 12, 0, 5);
    const y = samples(300, 12, 0.3, 6);
    const xy = frechetDistanceOf(x, y);
    expect(xy).toBeGreaterThan(0);
    expect(frechetDistanceOf(y, x)).toBeCloseTo(xy, 10);
    const few = samples(5, 12, 0, 7); // covariance of rank ≤ 4 in 12 dimensions
    const d = frechetDistanceOf(few, y);
    expect(Number.isFinite(d)).toBe(true);
    expect(d).toBeCloseTo(frechetDistanceOf(y, few), 6); // its 8 zero eigenvalues: ~√ε each, as above
  });
});
