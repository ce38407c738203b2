/**
 * The Fréchet distance between two Gaussians (Dowson & Landau 1982; as FID, Heusel et al. 2017):
 *   d² = ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁Σ₂)^{1/2}).
 * Σ₁Σ₂ is not symmetric, but it is similar to the symmetric PSD matrix M = Σ₁^{1/2} Σ₂ Σ₁^{1/2}
 * (Σ₁Σ₂ = Σ₁^{1/2} M Σ₁^{−1/2} when Σ₁ is invertible; AB and BA share eigenvalues in general), so
 * Tr((Σ₁Σ₂)^{1/2}) = Σᵢ √λᵢ(M). Both square roots come from symmetric eigendecompositions by the
 * cyclic Jacobi method, in float64, with eigenvalues clamped at 0 against round-off.
 * Matrices are dense row-major Float64Arrays of n × n values.
 */

export interface Gaussian {
  /** μ, length n. */
  mean: Float64Array;
  /** Σ, n × n row-major. */
  cov: Float64Array;
}

export interface Eigen {
  /** λᵢ, unsorted. */
  values: Float64Array;
  /** V, n × n row-major; column i is the unit eigenvector of λᵢ, so A = V diag(λ) Vᵀ. */
  vectors: Float64Array;
}

/** Sample mean and unbiased covariance Σ = Σ_k (x_k − μ)(x_k − μ)ᵀ / (N − 1) of N ≥ 2 feature vectors (as numpy.cov). */
export function fitGaussian(samples: ArrayLike<number>[]): Gaussian {
  const count = samples.length;
  if (count < 2) throw new RangeError(`need at least 2 samples to fit a covariance, got ${count}`);
  const n = samples[0].length;
  const mean = new Float64Array(n);
  for (const x of samples) {
    if (x.length !== n) throw new RangeError(`samples have different lengths (${n} and ${x.length})`);
    for (let i = 0; i < n; i++) mean[i] += x[i] / count;
  }
  const cov = new Float64Array(n * n);
  const d = new Float64Array(n);
  for (const x of samples) {
    for (let i = 0; i < n; i++) d[i] = x[i] - mean[i];
    for (let i = 0; i < n; i++) for (let j = i; j < n; j++) cov[i * n + j] += d[i] * d[j];
  }
  for (let i = 0; i < n; i++)
    for (let j = i; j < n; j++) {
      cov[i * n + j] /= count - 1;
      cov[j * n + i] = cov[i * n + j];
    }
  return { mean, cov };
}

/**
 * Eigendecomposition of a symmetric n × n matrix by the cyclic Jacobi method (Golub & Van Loan,
 * Matrix Computations, §8.5): sweep over all pairs p < q, and zero a_pq with the rotation J(p, q, θ)
 * whose t = tan θ solves t² + 2τt − 1 = 0 for τ = (a_qq − a_pp)/(2a_pq) (the smaller root,
 * t = sign(τ)/(|τ| + √(1 + τ²)); c = 1/√(1 + t²), s = tc), A ← JᵀAJ, V ← VJ. Every rotation keeps
 * A's eigenvalues and lowers off(A)² by 2a_pq²; sweeps stop once off(A) ≤ 10⁻¹⁴‖A‖_F.
 */
export function jacobiEigen(matrix: Float64Array, n: number, maxSweeps = 100): Eigen {
  if (matrix.length !== n * n) throw new RangeError(`expected ${n * n} values for a ${n}×${n} matrix, got ${matrix.length}`);
  const a = Float64Array.from(matrix);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let norm2 = 0;
  for (const x of a) norm2 += x * x;
  const tolerance2 = 1e-28 * norm2;
  for (let sweep = 0; ; sweep++) {
    let off2 = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off2 += 2 * a[p * n + q] ** 2;
    if (off2 <= tolerance2) break;
    if (sweep === maxSweeps)
      throw new Error(`Jacobi eigendecomposition did not converge in ${maxSweeps} sweeps (off-diagonal norm ${Math.sqrt(off2)})`);
    for (let p = 0; p < n; p++)
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (apq === 0) continue;
        const tau = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = (tau >= 0 ? 1 : -1) / (Math.abs(tau) + Math.sqrt(1 + tau * tau));
        const c = 1 / Math.sqrt(1 + t * t);
        const s = t * c;
        // A ← A J (columns p, q), then A ← Jᵀ A (rows p, q); J_pp = J_qq = c, J_pq = s, J_qp = −s.
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p];
          const akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k];
          const aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        a[p * n + q] = a[q * n + p] = 0; // exactly, rather than round-off
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
  }
  return { values: Float64Array.from({ length: n }, (_, i) => a[i * n + i]), vectors: v };
}

/** A^{1/2} = V diag(√max(λ, 0)) Vᵀ for a symmetric PSD matrix A = V diag(λ) Vᵀ. */
export function sqrtPsd(matrix: Float64Array, n: number): Float64Array {
  const { values, vectors: v } = jacobiEigen(matrix, n);
  const roots = values.map((l) => Math.sqrt(Math.max(l, 0)));
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = i; j < n; j++) {
      let sum = 0;
      for (let k = 0; k < n; k++) sum += v[i * n + k] * roots[k] * v[j * n + k];
      out[i * n + j] = out[j * n + i] = sum;
    }
  return out;
}

/** C = A B for n × n row-major matrices. */
function matmul(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k];
      if (aik === 0) continue;
      for (let j = 0; j < n; j++) c[i * n + j] += aik * b[k * n + j];
    }
  return c;
}

/** d² = ‖μ₁ − μ₂‖² + Tr Σ₁ + Tr Σ₂ − 2 Σᵢ √max(λᵢ(Σ₁^{1/2} Σ₂ Σ₁^{1/2}), 0). */
export function frechetDistance(g1: Gaussian, g2: Gaussian): number {
  const n = g1.mean.length;
  if (g2.mean.length !== n || g1.cov.length !== n * n || g2.cov.length !== n * n)
    throw new RangeError(`the Gaussians have different dimensions (${n} and ${g2.mean.length})`);
  let meanTerm = 0;
  let traces = 0;
  for (let i = 0; i < n; i++) {
    meanTerm += (g1.mean[i] - g2.mean[i]) ** 2;
    traces += g1.cov[i * n + i] + g2.cov[i * n + i];
  }
  const root1 = sqrtPsd(g1.cov, n);
  const m = matmul(matmul(root1, g2.cov, n), root1, n);
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) m[i * n + j] = m[j * n + i] = (m[i * n + j] + m[j * n + i]) / 2; // symmetric up to round-off
  let traceRoot = 0;
  for (const l of jacobiEigen(m, n).values) traceRoot += Math.sqrt(Math.max(l, 0));
  return meanTerm + traces - 2 * traceRoot;
}

/** The Fréchet distance between Gaussians fitted (fitGaussian) to two sets of feature vectors. */
export function frechetDistanceOf(features1: ArrayLike<number>[], features2: ArrayLike<number>[]): number {
  return frechetDistance(fitGaussian(features1), fitGaussian(features2));
}
