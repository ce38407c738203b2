import * as tf from '@tensorflow/tfjs';

/**
 * GroupNorm (Wu & He 2018) as one tfjs op, with three things fused into it:
 *   u = x + shift[b, offset : offset + C]     (optional: a residual block's timestep projection)
 *   z = γ · (u − mean_g(u)) / √(var_g(u) + ε) + β   (statistics over H, W and the C/G channels of each group)
 *   y = SiLU(z) = z·σ(z)                       (optional)
 * Built from tfjs ops it is ~12 kernels (and ~40 in the backward pass); each backend registers one
 * kernel for the name GROUP_NORM: WGSL on WebGPU (./group-norm-webgpu), loops over the raw
 * buffers on cpu (./group-norm-cpu) and on wasm's heap (./group-norm-wasm), and `groupNormComposite`
 * (below) on WebGL. The gradient is registered once for the op, whatever the backend
 * (`groupNormGradConfig`), and is one kernel too (GROUP_NORM_GRAD).
 * Inputs, in order: x [B, H, W, C], γ [C], β [C], and optionally shift [B, S] with offset + C ≤ S.
 */
export const GROUP_NORM = 'DdpmGroupNorm';

export interface GroupNormAttrs {
  /** G: C must be a multiple of it. */
  groups: number;
  /** ε in the denominator (PyTorch's default 1e-5). */
  epsilon: number;
  /** Apply SiLU after the affine transform. */
  silu: boolean;
  /** Where this layer's C columns start in shift (ignored without shift). */
  shiftOffset: number;
}

export interface GroupNormShift {
  /** [B, S]: e.g. every residual block's timestep projection, side by side. */
  shift: tf.Tensor;
  offset: number;
}

/** Checks shapes, and says what is wrong: every backend's kernel calls it (through groupNormKernelInputs). */
export function checkGroupNormInputs(
  x: { shape: number[] },
  gamma: { shape: number[] },
  beta: { shape: number[] },
  shift: { shape: number[] } | undefined,
  attrs: GroupNormAttrs,
): void {
  if (x.shape.length !== 4) throw new RangeError(`GroupNorm takes [B, H, W, C], got [${x.shape}]`);
  const [b, , , c] = x.shape;
  if (!Number.isInteger(attrs.groups) || attrs.groups < 1 || c % attrs.groups !== 0)
    throw new RangeError(`GroupNorm: ${c} channels do not split into ${attrs.groups} groups`);
  if (gamma.shape.length !== 1 || gamma.shape[0] !== c || beta.shape.length !== 1 || beta.shape[0] !== c)
    throw new RangeError(`GroupNorm: γ and β must be [${c}], got [${gamma.shape}] and [${beta.shape}]`);
  if (shift && (shift.shape.length !== 2 || shift.shape[0] !== b || attrs.shiftOffset < 0 || attrs.shiftOffset + c > shift.shape[1]))
    throw new RangeError(
      `GroupNorm: shift [${shift.shape}] has no columns ${attrs.shiftOffset}…${attrs.shiftOffset + c - 1} for a batch of ${b}`,
    );
}

/** The inputs of GROUP_NORM (x, γ, β, shift?) or GROUP_NORM_GRAD (x, γ, β, ∂L/∂y, shift?), checked. */
export function groupNormKernelInputs(inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap | undefined, grad: boolean) {
  const list = inputs as unknown as tf.TensorInfo[];
  const [x, gamma, beta] = list;
  const [dy, shift] = grad ? [list[3], list[4]] : [undefined, list[3]];
  const a = attrs as unknown as GroupNormAttrs;
  checkGroupNormInputs(x, gamma, beta, shift, a);
  const other = list.find((t) => t.dtype !== 'float32');
  if (other) throw new TypeError(`GroupNorm takes float32 tensors, got ${other.dtype}`);
  return { x, gamma, beta, dy, shift, attrs: a };
}

/** y = GroupNorm(x (+ shift)) (then SiLU): one kernel on every backend. */
export function groupNormOp(
  x: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  groups: number,
  options: { silu?: boolean; epsilon?: number; shift?: GroupNormShift } = {},
): tf.Tensor {
  const attrs: GroupNormAttrs = {
    groups,
    epsilon: options.epsilon ?? 1e-5,
    silu: options.silu ?? false,
    shiftOffset: options.shift?.offset ?? 0,
  };
  const inputs = options.shift ? [x, gamma, beta, options.shift.shift] : [x, gamma, beta];
  return tf.engine().runKernel<tf.Tensor>(GROUP_NORM, inputs as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap);
}

/** The op's intermediate values, from tfjs ops: for the composites of both kernels. */
function parts(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, shift: tf.Tensor | undefined, attrs: GroupNormAttrs) {
  const [b, h, w, c] = x.shape;
  const g = attrs.groups;
  const grouped = [b, h, w, g, c / g];
  const axes = [1, 2, 4];
  const u = shift ? tf.add(x, tf.reshape(tf.slice(shift, [0, attrs.shiftOffset], [b, c]), [b, 1, 1, c])) : x;
  const ug = tf.reshape(u, grouped); // [B, H, W, G, C/G]
  const centred = tf.sub(ug, tf.mean(ug, axes, true));
  const r = tf.rsqrt(tf.add(tf.mean(tf.square(centred), axes, true), attrs.epsilon)); // 1/√(σ² + ε), [B, 1, 1, G, 1]
  const xHat = tf.mul(centred, r); // [B, H, W, G, C/G]
  const z = tf.add(tf.mul(tf.reshape(xHat, [b, h, w, c]), gamma), beta);
  return { xHat, r, z, grouped, axes };
}

/** The op from plain tfjs ops: the WebGL kernel, and the reference the tests compare every kernel with. */
export function groupNormComposite(
  x: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  shift: tf.Tensor | undefined,
  attrs: GroupNormAttrs,
): tf.Tensor {
  return tf.tidy(() => {
    const { z } = parts(x, gamma, beta, shift, attrs);
    return attrs.silu ? tf.mul(z, tf.sigmoid(z)) : z;
  });
}

/**
 * The backward pass as one kernel too, GROUP_NORM_GRAD, in closed form rather than autodiff through a
 * dozen ops (x̂ and z are recomputed from the saved inputs; nothing else is kept for it):
 *   ∂L/∂z = ∂L/∂y · σ(z)(1 + z(1 − σ(z)))      (SiLU, when fused)
 *   ∂L/∂u = r · (g − mean_group(g) − x̂ · mean_group(g · x̂)),  g = ∂L/∂z · γ,  r = 1/√(σ²_group + ε)
 * Inputs x, γ, β, ∂L/∂y (and shift); one flat output holding ∂L/∂u ([B, H, W, C]) followed by three
 * [B, C] sums over H and W: Σ ∂L/∂z · x̂, Σ ∂L/∂z and Σ ∂L/∂u — the per-image parts of ∂L/∂γ, ∂L/∂β
 * and ∂L/∂shift, so no backend needs a second pass over the data for them.
 */
export const GROUP_NORM_GRAD = 'DdpmGroupNormGrad';

/** Length of GROUP_NORM_GRAD's output for an input of this shape: B·H·W·C + 3·B·C. */
export const gradOutputSize = ([b, h, w, c]: readonly number[]): number => b * h * w * c + 3 * b * c;

/** GROUP_NORM_GRAD from plain tfjs ops: the WebGL kernel, and the reference for the others. */
export function groupNormGradComposite(
  x: tf.Tensor,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  dy: tf.Tensor,
  shift: tf.Tensor | undefined,
  attrs: GroupNormAttrs,
): tf.Tensor {
  const [b, h, w, c] = x.shape;
  return tf.tidy(() => {
    const { xHat, r, z, grouped, axes } = parts(x, gamma, beta, shift, attrs);
    let dz = dy;
    if (attrs.silu) {
      const s = tf.sigmoid(z);
      dz = tf.mul(dz, tf.mul(s, tf.add(1, tf.mul(z, tf.sub(1, s)))));
    }
    const gr = tf.reshape(tf.mul(dz, gamma), grouped);
    const du = tf.reshape(tf.mul(r, tf.sub(tf.sub(gr, tf.mean(gr, axes, true)), tf.mul(xHat, tf.mean(tf.mul(gr, xHat), axes, true)))), [
      b,
      h,
      w,
      c,
    ]);
    const sums = [tf.mul(dz, tf.reshape(xHat, [b, h, w, c])), dz, du].map((v) => tf.reshape(tf.sum(v, [1, 2]), [-1])); // [B·C] each
    return tf.concat([tf.reshape(du, [-1]), ...sums]);
  });
}

/** The op's gradient, for every backend: one GROUP_NORM_GRAD kernel, then the sums over the batch. */
export const groupNormGradConfig: tf.GradConfig = {
  kernelName: GROUP_NORM,
  saveAllInputs: true,
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrsMap: tf.NamedAttrMap) => {
    const attrs = attrsMap as unknown as GroupNormAttrs;
    const [x, gamma, beta, shift] = saved;
    const [b, h, w, c] = x.shape;
    const n = b * h * w * c;
    const packed = tf
      .engine()
      .runKernel<tf.Tensor>(
        GROUP_NORM_GRAD,
        (shift ? [x, gamma, beta, dy, shift] : [x, gamma, beta, dy]) as unknown as tf.NamedTensorMap,
        attrsMap,
      );
    const perImage = (row: number) => tf.reshape(tf.slice(packed, [n + row * b * c], [b * c]), [b, c]); // [B, C]
    const named: Record<string, () => tf.Tensor> = {
      0: () => tf.reshape(tf.slice(packed, [0], [n]), [b, h, w, c]),
      1: () => tf.sum(perImage(0), 0), // ∂L/∂γ = Σ_{b,h,w} ∂L/∂z · x̂
      2: () => tf.sum(perImage(1), 0), // ∂L/∂β = Σ_{b,h,w} ∂L/∂z
    };
    // ∂L/∂shift[b, offset + c] = Σ_{h,w} ∂L/∂u[b, h, w, c]; 0 in the other columns
    if (shift)
      named[3] = () =>
        tf.pad(perImage(2), [
          [0, 0],
          [attrs.shiftOffset, shift.shape[1]! - attrs.shiftOffset - c],
        ]);
    return named;
  },
};
