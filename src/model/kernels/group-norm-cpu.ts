import * as tf from '@tensorflow/tfjs';
import { checkGroupNormInputs, gradOutputSize, type GroupNormAttrs } from './group-norm';

/**
 * GroupNorm (+ shift, + SiLU; ./group-norm) as one loop over the raw float32 buffers, for the cpu
 * backend (JS arrays) and the wasm backend (views of its heap). One pass per group for the mean,
 * one for the variance of the centred values (the two-pass form, as exact as the composite), one to
 * write; sums in float64. On wasm this one kernel replaces ~12 engine calls, each with a fixed cost.
 */
export function groupNormForward(
  x: Float32Array,
  gamma: Float32Array,
  beta: Float32Array,
  shift: Float32Array | null,
  shiftWidth: number,
  shape: readonly number[],
  attrs: GroupNormAttrs,
  out: Float32Array,
): void {
  forEachGroup(x, shift, shiftWidth, shape, attrs, (idx, chs, u, mean, r) => {
    for (let k = 0; k < idx.length; k++) {
      const i = idx[k];
      const ch = chs[k];
      const z = gamma[ch] * (x[i] + u[ch] - mean) * r + beta[ch];
      out[i] = attrs.silu ? z / (1 + Math.exp(-z)) : z;
    }
  });
}

/**
 * GROUP_NORM_GRAD (./group-norm) on the raw buffers: per group, recompute x̂ and z, then
 *   ∂L/∂u = r · (g − mean(g) − x̂ · mean(g · x̂)),  g = ∂L/∂z · γ;
 * out holds ∂L/∂u and then the three [B, C] sums Σ_{h,w} ∂L/∂z · x̂, Σ ∂L/∂z, Σ ∂L/∂u.
 */
export function groupNormBackward(
  x: Float32Array,
  gamma: Float32Array,
  beta: Float32Array,
  dy: Float32Array,
  shift: Float32Array | null,
  shiftWidth: number,
  shape: readonly number[],
  attrs: GroupNormAttrs,
  out: Float32Array,
): void {
  const [b, h, w, c] = shape;
  const n = b * h * w * c;
  const bc = b * c;
  const cg = c / attrs.groups;
  const dz = (i: number, ch: number, xHat: number) => {
    if (!attrs.silu) return dy[i];
    const z = gamma[ch] * xHat + beta[ch];
    const s = 1 / (1 + Math.exp(-z));
    return dy[i] * s * (1 + z * (1 - s)); // SiLU′(z)
  };
  forEachGroup(x, shift, shiftWidth, shape, attrs, (idx, chs, u, mean, r, bi) => {
    const sums = new Float64Array(3 * cg); // per channel of the group: Σ dz·x̂, Σ dz, Σ du
    let sg = 0;
    let sgx = 0;
    const count = idx.length;
    for (let k = 0; k < count; k++) {
      const i = idx[k];
      const ch = chs[k];
      const xHat = (x[i] + u[ch] - mean) * r;
      const d = dz(i, ch, xHat);
      const g = d * gamma[ch];
      sg += g;
      sgx += g * xHat;
      sums[ch % cg] += d * xHat;
      sums[cg + (ch % cg)] += d;
    }
    const [meanG, meanGx] = [sg / count, sgx / count];
    for (let k = 0; k < count; k++) {
      const i = idx[k];
      const ch = chs[k];
      const xHat = (x[i] + u[ch] - mean) * r;
      const du = r * (dz(i, ch, xHat) * gamma[ch] - meanG - xHat * meanGx);
      out[i] = du;
      sums[2 * cg + (ch % cg)] += du;
    }
    const c0 = chs[0];
    for (let j = 0; j < cg; j++) for (let row = 0; row < 3; row++) out[n + row * bc + bi * c + c0 + j] = sums[row * cg + j];
  });
}

/**
 * Calls `visit` once per (image, group) with the group's flat indices and their channels, this
 * image's shift per channel, the group's mean and r = 1/√(σ² + ε) of u = x + shift (two passes, float64).
 */
function forEachGroup(
  x: Float32Array,
  shift: Float32Array | null,
  shiftWidth: number,
  shape: readonly number[],
  attrs: GroupNormAttrs,
  visit: (idx: Int32Array, chs: Int32Array, u: Float64Array, mean: number, r: number, image: number) => void,
): void {
  const [b, h, w, c] = shape;
  const hw = h * w;
  const cg = c / attrs.groups;
  const m = hw * cg;
  const u = new Float64Array(c); // this image's shift, per channel
  const idx = new Int32Array(m);
  const chs = new Int32Array(m);
  for (let bi = 0; bi < b; bi++) {
    for (let ch = 0; ch < c; ch++) u[ch] = shift ? shift[bi * shiftWidth + attrs.shiftOffset + ch] : 0;
    for (let g = 0; g < attrs.groups; g++) {
      for (let p = 0, k = 0; p < hw; p++)
        for (let j = 0; j < cg; j++, k++) {
          chs[k] = g * cg + j;
          idx[k] = (bi * hw + p) * c + chs[k];
        }
      let sum = 0;
      for (let k = 0; k < m; k++) sum += x[idx[k]] + u[chs[k]];
      const mean = sum / m;
      let sq = 0;
      for (let k = 0; k < m; k++) sq += (x[idx[k]] + u[chs[k]] - mean) ** 2;
      visit(idx, chs, u, mean, 1 / Math.sqrt(sq / m + attrs.epsilon), bi);
    }
  }
}

type Inputs = [tf.TensorInfo, tf.TensorInfo, tf.TensorInfo, tf.TensorInfo?];

function requireFloat32(inputs: (tf.TensorInfo | undefined)[]): void {
  const other = inputs.find((t) => t && t.dtype !== 'float32');
  if (other) throw new TypeError(`GroupNorm takes float32 tensors, got ${other.dtype}`);
}

/** The cpu backend's kernel: its tensors are JS typed arrays. */
export const groupNormCpu: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const [x, gamma, beta, shift] = inputs as unknown as Inputs;
  const a = attrs as unknown as GroupNormAttrs;
  checkGroupNormInputs(x, gamma, beta, shift, a);
  requireFloat32([x, gamma, beta, shift]);
  const be = backend as tf.KernelBackend & { data: { get(id: object): { values: Float32Array } }; makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo };
  const values = (t: tf.TensorInfo) => be.data.get(t.dataId).values;
  const out = new Float32Array(tf.util.sizeFromShape(x.shape));
  groupNormForward(values(x), values(gamma), values(beta), shift ? values(shift) : null, shift?.shape[1] ?? 0, x.shape, a, out);
  return be.makeTensorInfo(x.shape, 'float32', out);
};

/** The wasm backend's kernel: reads and writes views of the wasm heap, no copies. */
export const groupNormWasm: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const [x, gamma, beta, shift] = inputs as unknown as Inputs;
  const a = attrs as unknown as GroupNormAttrs;
  checkGroupNormInputs(x, gamma, beta, shift, a);
  requireFloat32([x, gamma, beta, shift]);
  const be = backend as tf.KernelBackend & { makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo; typedArrayFromHeap(t: tf.TensorInfo): Float32Array };
  const out = be.makeOutput(x.shape, 'float32');
  // views taken after the allocation: makeOutput may grow the heap, which detaches older views
  const view = (t: tf.TensorInfo) => be.typedArrayFromHeap(t);
  groupNormForward(view(x), view(gamma), view(beta), shift ? view(shift) : null, shift?.shape[1] ?? 0, x.shape, a, view(out));
  return out;
};

type GradInputs = [tf.TensorInfo, tf.TensorInfo, tf.TensorInfo, tf.TensorInfo, tf.TensorInfo?];

/** GROUP_NORM_GRAD on cpu. */
export const groupNormGradCpu: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const [x, gamma, beta, dy, shift] = inputs as unknown as GradInputs;
  const a = attrs as unknown as GroupNormAttrs;
  checkGroupNormInputs(x, gamma, beta, shift, a);
  requireFloat32([x, gamma, beta, dy, shift]);
  const be = backend as tf.KernelBackend & { data: { get(id: object): { values: Float32Array } }; makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): tf.TensorInfo };
  const values = (t: tf.TensorInfo) => be.data.get(t.dataId).values;
  const size = gradOutputSize(x.shape);
  const out = new Float32Array(size);
  groupNormBackward(values(x), values(gamma), values(beta), values(dy), shift ? values(shift) : null, shift?.shape[1] ?? 0, x.shape, a, out);
  return be.makeTensorInfo([size], 'float32', out);
};

/** GROUP_NORM_GRAD on wasm, on views of the heap. */
export const groupNormGradWasm: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const [x, gamma, beta, dy, shift] = inputs as unknown as GradInputs;
  const a = attrs as unknown as GroupNormAttrs;
  checkGroupNormInputs(x, gamma, beta, shift, a);
  requireFloat32([x, gamma, beta, dy, shift]);
  const be = backend as tf.KernelBackend & { makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo; typedArrayFromHeap(t: tf.TensorInfo): Float32Array };
  const out = be.makeOutput([gradOutputSize(x.shape)], 'float32');
  const view = (t: tf.TensorInfo) => be.typedArrayFromHeap(t); // after the allocation (see groupNormWasm)
  groupNormBackward(view(x), view(gamma), view(beta), view(dy), shift ? view(shift) : null, shift?.shape[1] ?? 0, x.shape, a, view(out));
  return out;
};
