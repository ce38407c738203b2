import * as tf from '@tensorflow/tfjs';

/**
 * Where each of a list of tensors lives in one flat float32 buffer: the order, shapes and offsets.
 * The optimizer's state (parameters, Adam moments, EMA) is kept flat, so one update touches every
 * weight in a handful of kernels instead of a dozen kernels per weight (what torch.optim's
 * fused/foreach Adam does with multi-tensor kernels).
 */
export class FlatLayout {
  readonly sizes: number[];
  readonly size: number;

  constructor(
    readonly names: readonly string[],
    readonly shapes: readonly (readonly number[])[],
  ) {
    this.sizes = shapes.map((s) => s.reduce((a, b) => a * b, 1));
    this.size = this.sizes.reduce((a, b) => a + b, 0);
  }

  static of(weights: ReadonlyMap<string, tf.Tensor>): FlatLayout {
    return new FlatLayout(
      [...weights.keys()],
      [...weights.values()].map((t) => t.shape),
    );
  }

  /** [size]: the tensors, in layout order, one after another. */
  flatten(tensors: readonly tf.Tensor[]): tf.Tensor1D {
    if (tensors.length !== this.names.length)
      throw new RangeError(`flatten: ${tensors.length} tensors for a layout of ${this.names.length}`);
    return tf.tidy(() => tf.concat<tf.Tensor1D>(tensors.map((t) => tf.reshape(t, [-1]))));
  }

  /** The inverse of flatten: one tensor per name, in its shape. */
  unflatten(flat: tf.Tensor): tf.Tensor[] {
    return tf.tidy(() => tf.split(flat, this.sizes).map((piece, i) => tf.reshape(piece, this.shapes[i] as number[])));
  }
}

/** A non-trainable variable holding `init`'s values; `init` is released. */
export function flatVariable(init: tf.Tensor): tf.Variable<tf.Rank.R1> {
  const v = tf.variable(init as tf.Tensor1D, false);
  init.dispose();
  return v;
}

/**
 * Adam (Kingma & Ba 2015, Algorithm 1) on flat buffers, after clipping the gradient's global norm:
 *   g ← g · min(1, c / (‖g‖ + 10⁻⁶))
 *   m ← β1 m + (1 − β1) g,  v ← β2 v + (1 − β2) g²
 *   θ ← θ − lr · (m / (1 − β1ᵗ)) / (√(v / (1 − β2ᵗ)) + ε)
 * in the order of operations of tf.train.adam, so it follows the per-variable optimizer to float
 * rounding. θ, m and v are flat variables in a FlatLayout's order.
 */
export class FusedAdam {
  readonly theta: tf.Variable<tf.Rank.R1>;
  readonly m: tf.Variable<tf.Rank.R1>;
  readonly v: tf.Variable<tf.Rank.R1>;
  /** Updates applied so far (t − 1 for the next one). */
  iterations = 0;

  constructor(
    readonly layout: FlatLayout,
    initial: readonly tf.Tensor[],
    readonly beta1 = 0.9,
    readonly beta2 = 0.999,
    readonly epsilon = 1e-8,
  ) {
    this.theta = flatVariable(layout.flatten(initial));
    this.m = flatVariable(tf.zeros([layout.size]));
    this.v = flatVariable(tf.zeros([layout.size]));
  }

  /**
   * One update of θ from the gradients (in layout order); clipNorm 0 turns clipping off. Returns the
   * gradient's global L2 norm before clipping (a scalar the caller disposes).
   */
  step(grads: readonly tf.Tensor[], learningRate: number, clipNorm: number): tf.Scalar {
    const t = this.iterations + 1;
    const gradNorm = tf.tidy(() => {
      let g = this.layout.flatten(grads); // [P]
      const norm = tf.sqrt(tf.sum(tf.square(g))) as tf.Scalar;
      if (clipNorm > 0) g = tf.mul(g, tf.minimum(1, tf.div(clipNorm, tf.add(norm, 1e-6))));
      const m = tf.add(tf.mul(this.m, this.beta1), tf.mul(g, 1 - this.beta1));
      const v = tf.add(tf.mul(this.v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2));
      const mHat = tf.div(m, 1 - this.beta1 ** t);
      const vHat = tf.div(v, 1 - this.beta2 ** t);
      const theta = tf.add(tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), this.epsilon)), -learningRate), this.theta);
      this.m.assign(m as tf.Tensor1D);
      this.v.assign(v as tf.Tensor1D);
      this.theta.assign(theta as tf.Tensor1D);
      return norm;
    });
    this.iterations = t;
    return gradNorm;
  }

  /** Replaces the moments and the step count (from a checkpoint). */
  setMoments(iterations: number, m: readonly tf.Tensor[], v: readonly tf.Tensor[]): void {
    tf.tidy(() => {
      this.m.assign(this.layout.flatten(m));
      this.v.assign(this.layout.flatten(v));
    });
    this.iterations = iterations;
  }

  dispose(): void {
    tf.dispose([this.theta, this.m, this.v]);
  }
}
