/**
 * The GroupNorm op's kernel against the composite it replaces, on whatever backend is active: values
 * and the gradients with respect to x, γ, β and shift (autodiff of the composite on one side, the
 * registered closed-form gradient on the other). Used by the Node tests (cpu, wasm, webgpu through
 * Dawn) and, through the harness page, by the browser tests (webgpu, webgl, wasm in Chromium).
 */
import * as tf from '@tensorflow/tfjs';
import { groupNormComposite, groupNormOp, type GroupNormAttrs } from '../../src/model/kernels/group-norm';

export interface GroupNormCase {
  name: string;
  shape: [number, number, number, number];
  groups: number;
  silu: boolean;
  /** Width S of the shift [B, S] and this layer's offset into it; absent: no shift. */
  shift?: { width: number; offset: number };
}

export const GROUP_NORM_CASES: GroupNormCase[] = [
  { name: '8 groups of 3, SiLU, shifted', shape: [2, 7, 7, 24], groups: 8, silu: true, shift: { width: 40, offset: 9 } },
  { name: '8 groups of 6, no SiLU', shape: [3, 5, 4, 48], groups: 8, silu: false },
  { name: 'one channel per group, SiLU', shape: [2, 4, 4, 4], groups: 4, silu: true },
  { name: 'one group, SiLU, shift filling S', shape: [1, 6, 6, 5], groups: 1, silu: true, shift: { width: 5, offset: 0 } },
  // a group larger than a workgroup's 256 threads, so every thread strides more than once
  { name: '28×28, 2 groups of 12, SiLU, shifted', shape: [2, 28, 28, 24], groups: 2, silu: true, shift: { width: 24, offset: 0 } },
];

export interface GroupNormCheck {
  name: string;
  backend: string;
  /** Max |kernel − composite| / max |composite| for y, ∂x, ∂γ, ∂β (and ∂shift). */
  errors: Record<string, number>;
  /** Kernels the op's forward pass ran (tf.profile; 1 where the backend has a fused kernel). */
  forwardKernels: number;
  /**
   * Kernels of its backward pass (all the gradients, plus the 2 of the test's tf.sum; not the
   * Identity kernels tf.grads adds per input), and the same for autodiff through the composite.
   */
  backwardKernels: number;
  compositeBackwardKernels: number;
  leakedTensors: number;
  /** On WebGPU: the first validation error the device reported during the check, else null. */
  validationError: string | null;
}

function seeded(shape: number[], seed: number, mean = 0): tf.Tensor {
  return tf.randomNormal(shape, mean, 1, 'float32', seed);
}

async function maxRelative(a: tf.Tensor, e: tf.Tensor): Promise<number> {
  const [av, ev] = [await a.data(), await e.data()];
  let err = 0;
  let scale = 0;
  for (let i = 0; i < ev.length; i++) {
    err = Math.max(err, Math.abs(av[i] - ev[i]));
    scale = Math.max(scale, Math.abs(ev[i]));
  }
  return scale > 0 ? err / scale : Number.POSITIVE_INFINITY; // an all-zero reference proves nothing
}

export async function checkGroupNorm(c: GroupNormCase): Promise<GroupNormCheck> {
  const device = tf.getBackend() === 'webgpu' ? (tf.backend() as unknown as { device: GPUDevice }).device : null;
  device?.pushErrorScope('validation');
  const before = tf.memory().numTensors;
  const ch = c.shape[3];
  const attrs: GroupNormAttrs = { groups: c.groups, epsilon: 1e-5, silu: c.silu, shiftOffset: c.shift?.offset ?? 0 };
  const x = seeded(c.shape, 1, 0.5);
  const gamma = seeded([ch], 2, 1);
  const beta = seeded([ch], 3);
  const shift = c.shift ? seeded([c.shape[0], c.shift.width], 4) : undefined;
  const r = seeded(c.shape, 5); // L = Σ y·r, so ∂L/∂y = r
  const inputs = shift ? [x, gamma, beta, shift] : [x, gamma, beta];
  const kernel = (...v: tf.Tensor[]) =>
    groupNormOp(v[0], v[1], v[2], c.groups, { silu: c.silu, shift: v[3] ? { shift: v[3], offset: attrs.shiftOffset } : undefined });
  const composite = (...v: tf.Tensor[]) => groupNormComposite(v[0], v[1], v[2], v[3], attrs);
  const run = (f: (...v: tf.Tensor[]) => tf.Tensor) =>
    tf.tidy(() => [f(...inputs), ...tf.grads((...v: tf.Tensor[]) => tf.sum(tf.mul(f(...v), r)))(inputs)]);
  const got = run(kernel);
  const want = run(composite);
  const names = ['y', 'dx', 'dγ', 'dβ', 'dshift'];
  const errors: Record<string, number> = {};
  for (let i = 0; i < got.length; i++) errors[names[i]] = await maxRelative(got[i], want[i]);
  const backend = tf.getBackend();
  const countKernels = async (f: () => tf.Tensor | tf.Tensor[]) => {
    const profile = await tf.profile(async () => {
      const out = [f()].flat();
      await Promise.all(out.map((t) => t.data()));
      tf.dispose(out);
    });
    return profile.kernels.filter((k) => k.name !== 'Identity' && tf.getKernel(k.name, backend) !== undefined).length;
  };
  const forwardKernels = await countKernels(() => kernel(...inputs));
  const backwardKernels = (await countKernels(() => tf.grads((...v: tf.Tensor[]) => tf.sum(kernel(...v)))(inputs))) - forwardKernels - 1; // less the forward and the sum
  const compositeForward = await countKernels(() => composite(...inputs));
  const compositeBackwardKernels =
    (await countKernels(() => tf.grads((...v: tf.Tensor[]) => tf.sum(composite(...v)))(inputs))) - compositeForward - 1;
  tf.dispose([...got, ...want, ...inputs, r]);
  const leakedTensors = tf.memory().numTensors - before;
  const validationError = device ? ((await device.popErrorScope())?.message ?? null) : null;
  return { name: c.name, backend, errors, forwardKernels, backwardKernels, compositeBackwardKernels, leakedTensors, validationError };
}

/** Every case on the active backend. */
export async function checkGroupNormCases(): Promise<GroupNormCheck[]> {
  const out: GroupNormCheck[] = [];
  for (const c of GROUP_NORM_CASES) out.push(await checkGroupNorm(c));
  return out;
}
