import * as tf from '@tensorflow/tfjs';
import { GaussianRng } from '../diffusion/random';
import type { UNetConfig } from './config';
import { avgPool2x2, conv, dense, groupNorm, silu, timestepEmbedding, upsampleNearest2x, weight, type Weights } from './layers';

/** Name and shape of every weight, in the order of the PyTorch mirror's state_dict (tools/torch/unet.py). */
export interface WeightSpec {
  name: string;
  shape: number[];
  /** How a fresh model initialises it (PyTorch's defaults; conv_out is zero so training starts at loss ≈ 1). */
  init: 'fanIn' | 'ones' | 'zeros' | 'normal';
}

export function weightSpecs(c: UNetConfig): WeightSpec[] {
  const specs: WeightSpec[] = [];
  const embDim = 4 * c.baseChannels;
  const linear = (name: string, i: number, o: number) =>
    specs.push({ name: `${name}.weight`, shape: [i, o], init: 'fanIn' }, { name: `${name}.bias`, shape: [o], init: 'fanIn' });
  const convolution = (name: string, k: number, i: number, o: number, init: 'fanIn' | 'zeros' = 'fanIn') =>
    specs.push({ name: `${name}.weight`, shape: [k, k, i, o], init }, { name: `${name}.bias`, shape: [o], init });
  const norm = (name: string, ch: number) =>
    specs.push({ name: `${name}.weight`, shape: [ch], init: 'ones' }, { name: `${name}.bias`, shape: [ch], init: 'zeros' });
  const resBlock = (name: string, i: number, o: number) => {
    norm(`${name}.norm1`, i);
    convolution(`${name}.conv1`, 3, i, o);
    linear(`${name}.emb`, embDim, o);
    norm(`${name}.norm2`, o);
    convolution(`${name}.conv2`, 3, o, o);
    if (i !== o) convolution(`${name}.skip`, 1, i, o);
  };

  linear('time_mlp1', c.baseChannels, embDim);
  linear('time_mlp2', embDim, embDim);
  if (c.numClasses > 0) specs.push({ name: 'label_emb.weight', shape: [c.numClasses + 1, embDim], init: 'normal' });
  convolution('conv_in', 3, c.inChannels, c.baseChannels);
  const widths = c.channelMults.map((m) => m * c.baseChannels);
  const skipChannels: number[] = [];
  let ch = c.baseChannels;
  widths.forEach((w, i) => {
    for (let j = 0; j < c.numResBlocks; j++) {
      resBlock(`down.${i}.${j}`, ch, w);
      ch = w;
      skipChannels.push(ch);
    }
  });
  if (c.downsample === 'conv') for (let i = 0; i < widths.length - 1; i++) convolution(`downsample.${i}.conv`, 3, widths[i], widths[i]);
  resBlock('mid1', ch, ch);
  if (c.attention) {
    norm('mid_attn.norm', ch);
    linear('mid_attn.qkv', ch, 3 * ch);
    linear('mid_attn.proj', ch, ch);
  }
  resBlock('mid2', ch, ch);
  const upChannels: number[] = [];
  for (let k = 0; k < widths.length; k++) {
    const w = widths[widths.length - 1 - k];
    for (let j = 0; j < c.numResBlocks; j++) {
      resBlock(`up.${k}.${j}`, ch + skipChannels.pop()!, w);
      ch = w;
    }
    upChannels.push(ch);
  }
  for (let k = 0; k < widths.length - 1; k++) convolution(`upsample.${k}.conv`, 3, upChannels[k], upChannels[k]);
  norm('norm_out', ch);
  convolution('conv_out', 3, ch, c.inChannels, 'zeros');
  return specs;
}

/** Fan-in of a weight or bias, for PyTorch's default U(−1/√fanIn, 1/√fanIn) initialisation. */
function fanIn(specs: WeightSpec[], spec: WeightSpec): number {
  const w = spec.name.endsWith('.bias') ? specs.find((s) => s.name === spec.name.replace(/\.bias$/, '.weight'))!.shape : spec.shape;
  return w.length === 4 ? w[0] * w[1] * w[2] : w[0];
}

/** Fresh weights for a config, deterministic for a seed. The caller owns the tensors. */
export function initWeights(c: UNetConfig, seed = 0): Map<string, tf.Tensor> {
  const rng = new GaussianRng(seed);
  const specs = weightSpecs(c);
  const out = new Map<string, tf.Tensor>();
  for (const spec of specs) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    let values: Float32Array;
    if (spec.init === 'ones') values = new Float32Array(n).fill(1);
    else if (spec.init === 'zeros') values = new Float32Array(n);
    else if (spec.init === 'normal') values = rng.normalArray(n);
    else {
      const bound = 1 / Math.sqrt(fanIn(specs, spec));
      values = Float32Array.from({ length: n }, () => (2 * rng.uniform() - 1) * bound);
    }
    out.set(spec.name, tf.tensor(values, spec.shape, 'float32'));
  }
  return out;
}

export interface ApplyOptions {
  /** Class labels [B] (int32); index numClasses means "no label". Omitted on a conditional model: all "no label". */
  labels?: tf.Tensor1D;
  /** Training mode: dropout on. */
  training?: boolean;
}

/**
 * ε_θ(x_t, t, label): the noise predictor. x [B, H, W, C] in the data range, t [B] (0-based timesteps)
 * → a tensor shaped like x. Knows nothing of noise schedules: t is only embedded.
 */
export function applyUNet(c: UNetConfig, w: Weights, x: tf.Tensor, t: tf.Tensor, options: ApplyOptions = {}): tf.Tensor {
  const [b, h, wd, ch0] = x.shape;
  if (x.rank !== 4 || h !== c.imageSize || wd !== c.imageSize || ch0 !== c.inChannels)
    throw new RangeError(`the model takes [B, ${c.imageSize}, ${c.imageSize}, ${c.inChannels}] images, got [${x.shape}]`);
  if (t.rank !== 1 || t.shape[0] !== b) throw new RangeError(`need one timestep per image: t is [${t.shape}], batch is ${b}`);
  return tf.tidy(() => {
    const dropout = (v: tf.Tensor) => (options.training && c.dropout > 0 ? tf.dropout(v, c.dropout) : v);
    /** embAct = SiLU(emb), shared by every block. */
    const resBlock = (name: string, v: tf.Tensor, embAct: tf.Tensor) => {
      let hdn = conv(w, `${name}.conv1`, groupNorm(w, `${name}.norm1`, v, c.groups, true));
      const e = dense(w, `${name}.emb`, embAct); // [B, out] — the timestep enters every block
      hdn = tf.add(hdn, tf.reshape(e, [b, 1, 1, -1]));
      hdn = conv(w, `${name}.conv2`, dropout(groupNorm(w, `${name}.norm2`, hdn, c.groups, true)));
      return tf.add(hdn, w.has(`${name}.skip.weight`) ? conv(w, `${name}.skip`, v) : v);
    };
    const attention = (v: tf.Tensor) => {
      const [, hh, ww, cc] = v.shape;
      const tokens = tf.reshape(groupNorm(w, 'mid_attn.norm', v, c.groups), [b * hh * ww, cc]);
      const [q, k, val] = tf.split(tf.reshape(dense(w, 'mid_attn.qkv', tokens), [b, hh * ww, 3 * cc]), 3, 2); // [B, N, C] each
      const att = tf.softmax(tf.div(tf.matMul(q, k, false, true), Math.sqrt(cc))); // [B, N, N]
      const out = dense(w, 'mid_attn.proj', tf.reshape(tf.matMul(att, val), [b * hh * ww, cc]));
      return tf.add(v, tf.reshape(out, [b, hh, ww, cc]));
    };

    // 1. timestep (+ label) embedding, shared by every residual block
    let emb = dense(w, 'time_mlp2', silu(dense(w, 'time_mlp1', timestepEmbedding(t, c.baseChannels)))); // [B, 4·base]
    if (c.numClasses > 0) {
      const labels = options.labels ?? tf.fill([b], c.numClasses, 'int32');
      emb = tf.add(emb, tf.gather(weight(w, 'label_emb.weight'), labels));
    }
    const embAct = silu(emb); // every residual block projects SiLU(emb): computed once
    // 2. down path, keeping each block's output for the skip connections
    let hdn = conv(w, 'conv_in', x);
    const skips: tf.Tensor[] = [];
    const levels = c.channelMults.length;
    for (let i = 0; i < levels; i++) {
      for (let j = 0; j < c.numResBlocks; j++) skips.push((hdn = resBlock(`down.${i}.${j}`, hdn, embAct)));
      if (i < levels - 1) hdn = c.downsample === 'conv' ? conv(w, `downsample.${i}.conv`, hdn, 2) : avgPool2x2(hdn);
    }
    // 3. middle, at the lowest resolution
    hdn = resBlock('mid1', hdn, embAct);
    if (c.attention) hdn = attention(hdn);
    hdn = resBlock('mid2', hdn, embAct);
    // 4. up path: concatenate the matching skip, then upsample (nearest + conv)
    for (let k = 0; k < levels; k++) {
      for (let j = 0; j < c.numResBlocks; j++) hdn = resBlock(`up.${k}.${j}`, tf.concat([hdn, skips.pop()!], 3), embAct);
      if (k < levels - 1) hdn = conv(w, `upsample.${k}.conv`, upsampleNearest2x(hdn));
    }
    // 5. back to image channels
    return conv(w, 'conv_out', groupNorm(w, 'norm_out', hdn, c.groups, true));
  });
}

