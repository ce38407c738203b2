import type * as tf from '@tensorflow/tfjs';
import { gradOutputSize, groupNormKernelInputs, type GroupNormAttrs } from './group-norm';
import { rawBuffers } from './raw-buffers';

/** A GroupNorm's float32 inputs as flat arrays: x [B, H, W, C], γ, β [C], shift [B, shiftWidth] or null. */
export interface GroupNormBuffers {
  x: Float32Array;
  gamma: Float32Array;
  beta: Float32Array;
  shift: Float32Array | null;
  shiftWidth: number;
  shape: readonly number[];
}

/** GroupNormBuffers of a kernel's inputs, each read through `view`. */
export function groupNormBuffers(
  view: (t: tf.TensorInfo) => Float32Array,
  x: tf.TensorInfo,
  gamma: tf.TensorInfo,
  beta: tf.TensorInfo,
  shift: tf.TensorInfo | undefined,
): GroupNormBuffers {
  return {
    x: view(x),
    gamma: view(gamma),
    beta: view(beta),
    shift: shift ? view(shift) : null,
    shiftWidth: shift?.shape[1] ?? 0,
    shape: x.shape,
  };
}

/**
 * GroupNorm (+ shift, + SiLU; ./group-norm) as loops over the raw float32 buffers, for the cpu
 * backend (JS arrays) and the wasm backend (views of its heap). Each image is read in memory order:
 * one pass sums u = x + shift and u² per group (in float64, where E[u²] − E[u]² loses nothing that
 * matters at float32 output), one writes z = u·γr + (β − mean·γr) through SiLU — per-channel
 * coefficients, so the inner loop is a multiply-add and an exp. `silu` false writes z alone (wasm
 * takes the sigmoid with its own SIMD kernel: ./group-norm-wasm).
 */
export function groupNormForward(buffers: GroupNormBuffers, attrs: GroupNormAttrs, out: Float32Array, silu = attrs.silu): void {
  const { x, gamma, beta } = buffers;
  forEachImage(buffers, attrs, ({ base, hw, c, a, b }) => {
    // z = γ x̂ + β = x·(γ a) + (γ b + β), with x̂ = x·a + b per channel
    const scale = new Float64Array(c);
    const offset = new Float64Array(c);
    for (let ch = 0; ch < c; ch++) {
      scale[ch] = gamma[ch] * a[ch];
      offset[ch] = gamma[ch] * b[ch] + beta[ch];
    }
    for (let p = 0, i = base; p < hw; p++)
      for (let ch = 0; ch < c; ch++, i++) {
        const z = x[i] * scale[ch] + offset[ch];
        out[i] = silu ? z / (1 + Math.exp(-z)) : z;
      }
  });
}

/**
 * GROUP_NORM_GRAD (./group-norm) on the raw buffers, per image: recompute x̂ and z, then
 *   ∂L/∂u = r · (g − mean(g) − x̂ · mean(g · x̂)),  g = ∂L/∂z · γ;
 * out holds ∂L/∂u and then the three [B, C] sums Σ_{h,w} ∂L/∂z · x̂, Σ ∂L/∂z, Σ ∂L/∂u. The first
 * pass parks ∂L/∂z in out (with σ(z) from `sigma` when given, else one exp per value) and sums it per
 * channel; γ being per channel, the group sums of g and g·x̂ follow from those. The second pass turns
 * ∂L/∂z into ∂L/∂u, a per-channel linear form in ∂L/∂z and x.
 */
export function groupNormBackward(
  buffers: GroupNormBuffers,
  dy: Float32Array,
  attrs: GroupNormAttrs,
  out: Float32Array,
  sigma: Float32Array | null = null,
): void {
  const { x, gamma, beta, shape } = buffers;
  const [batch, h, w, c] = shape;
  const n = batch * h * w * c;
  const bc = batch * c;
  const cg = c / attrs.groups;
  const count = h * w * cg;
  forEachImage(buffers, attrs, ({ image, base, hw, a, b }) => {
    const sums = new Float64Array(3 * c); // per channel: Σ dz·x̂, Σ dz, Σ du
    for (let p = 0, i = base; p < hw; p++)
      for (let ch = 0; ch < c; ch++, i++) {
        const xHat = x[i] * a[ch] + b[ch];
        let dz = dy[i];
        if (attrs.silu) {
          const z = gamma[ch] * xHat + beta[ch];
          const s = sigma ? sigma[i] : 1 / (1 + Math.exp(-z));
          dz *= s * (1 + z * (1 - s)); // SiLU′(z)
        }
        out[i] = dz;
        sums[ch] += dz * xHat;
        sums[c + ch] += dz;
      }
    // du = r (dz γ − mean(g) − x̂ mean(g x̂)) = dz·P + x·Q + R per channel (r = a)
    const P = new Float64Array(c);
    const Q = new Float64Array(c);
    const R = new Float64Array(c);
    for (let g = 0; g < attrs.groups; g++) {
      let meanG = 0;
      let meanGx = 0;
      for (let ch = g * cg; ch < (g + 1) * cg; ch++) {
        meanG += gamma[ch] * sums[c + ch];
        meanGx += gamma[ch] * sums[ch];
      }
      meanG /= count;
      meanGx /= count;
      for (let ch = g * cg; ch < (g + 1) * cg; ch++) {
        P[ch] = a[ch] * gamma[ch];
        Q[ch] = -a[ch] * meanGx * a[ch];
        R[ch] = -a[ch] * (meanG + meanGx * b[ch]);
      }
    }
    for (let p = 0, i = base; p < hw; p++)
      for (let ch = 0; ch < c; ch++, i++) {
        const du = out[i] * P[ch] + x[i] * Q[ch] + R[ch];
        out[i] = du;
        sums[2 * c + ch] += du;
      }
    for (let row = 0; row < 3; row++) for (let ch = 0; ch < c; ch++) out[n + row * bc + image * c + ch] = sums[row * c + ch];
  });
}

interface ImageStats {
  image: number;
  /** Flat index of the image's first value; it has hw pixels of c channels. */
  base: number;
  hw: number;
  c: number;
  /** Per channel: x̂ = x·a + b, i.e. a = r = 1/√(σ² + ε) and b = (shift − mean)·r of the channel's group. */
  a: Float64Array;
  b: Float64Array;
}

/**
 * Calls `visit` once per image with its GroupNorm statistics: one pass in memory order summing
 * x and x² per channel (float64), then per group the mean and variance of u = x + shift.
 */
function forEachImage({ x, shift, shiftWidth, shape }: GroupNormBuffers, attrs: GroupNormAttrs, visit: (s: ImageStats) => void): void {
  const [batch, h, w, c] = shape;
  const hw = h * w;
  const cg = c / attrs.groups;
  const count = hw * cg;
  const sum = new Float64Array(c);
  const sumSq = new Float64Array(c);
  const a = new Float64Array(c);
  const b = new Float64Array(c);
  for (let image = 0; image < batch; image++) {
    sum.fill(0);
    sumSq.fill(0);
    const base = image * hw * c;
    for (let p = 0, i = base; p < hw; p++)
      for (let ch = 0; ch < c; ch++, i++) {
        const v = x[i];
        sum[ch] += v;
        sumSq[ch] += v * v;
      }
    for (let g = 0; g < attrs.groups; g++) {
      // u = x + s_ch: Σu = Σx + hw·s, Σu² = Σx² + 2 s Σx + hw s²
      let su = 0;
      let su2 = 0;
      for (let ch = g * cg; ch < (g + 1) * cg; ch++) {
        const sh = shift ? shift[image * shiftWidth + attrs.shiftOffset + ch] : 0;
        su += sum[ch] + hw * sh;
        su2 += sumSq[ch] + 2 * sh * sum[ch] + hw * sh * sh;
      }
      const mean = su / count;
      const rg = 1 / Math.sqrt(Math.max(0, su2 / count - mean * mean) + attrs.epsilon);
      for (let ch = g * cg; ch < (g + 1) * cg; ch++) {
        const sh = shift ? shift[image * shiftWidth + attrs.shiftOffset + ch] : 0;
        a[ch] = rg;
        b[ch] = (sh - mean) * rg;
      }
    }
    visit({ image, base, hw, c, a, b });
  }
}

/** GROUP_NORM or GROUP_NORM_GRAD on the cpu backend. */
function cpuKernel(grad: boolean): tf.KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { x, gamma, beta, dy, shift, attrs: a } = groupNormKernelInputs(inputs, attrs, grad);
    const raw = rawBuffers(backend, 'cpu');
    const view = (t: tf.TensorInfo) => raw.view(t) as Float32Array;
    const buffers = groupNormBuffers(view, x, gamma, beta, shift);
    return raw.run(grad ? [gradOutputSize(x.shape)] : x.shape, (out) =>
      dy ? groupNormBackward(buffers, view(dy), a, out) : groupNormForward(buffers, a, out),
    );
  };
}

export const groupNormCpu = cpuKernel(false);
export const groupNormGradCpu = cpuKernel(true);
