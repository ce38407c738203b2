import * as tf from '@tensorflow/tfjs';
import { GaussianRng } from '../diffusion/random';
import type { UNetConfig } from './config';
import { timestepEmbedding } from './kernels/timestep-embedding';
import { avgPool2x2, conv, dense, groupNorm, silu, upsampleNearest2x, weight, type Weights } from './layers';

/** Name and shape of every weight, in the order of the PyTorch mirror's state_dict (tools/torch/unet.py). */
export interface WeightSpec {
  name: string;
  shape: number[];
  /** How a fresh model initialises it (PyTorch's defaults; conv_out is zero so training starts at loss ≈ 1). */
  init: 'fanIn' | 'ones' | 'zeros' | 'normal';
}

/** A residual block: its weights' prefix and its input and output channels. */
export interface ResBlockSpec {
  name: string;
  inCh: number;
  outCh: number;
}

/**
 * Every residual block in the order the forward pass runs them: down levels, mid1, mid2, up levels
 * (an up block's input is the previous output concatenated with the matching skip).
 */
export function resBlocks(c: UNetConfig): ResBlockSpec[] {
  const blocks: ResBlockSpec[] = [];
  const widths = c.channelMults.map((m) => m * c.baseChannels);
  const skipChannels: number[] = [];
  let ch = c.baseChannels;
  widths.forEach((w, i) => {
    for (let j = 0; j < c.numResBlocks; j++) {
      blocks.push({ name: `down.${i}.${j}`, inCh: ch, outCh: w });
      ch = w;
      skipChannels.push(ch);
    }
  });
  blocks.push({ name: 'mid1', inCh: ch, outCh: ch }, { name: 'mid2', inCh: ch, outCh: ch });
  for (let k = 0; k < widths.length; k++) {
    const w = widths[widths.length - 1 - k];
    for (let j = 0; j < c.numResBlocks; j++) {
      blocks.push({ name: `up.${k}.${j}`, inCh: ch + skipChannels.pop()!, outCh: w });
      ch = w;
    }
  }
  return blocks;
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
  const resBlock = ({ name, inCh, outCh }: ResBlockSpec) => {
    norm(`${name}.norm1`, inCh);
    convolution(`${name}.conv1`, 3, inCh, outCh);
    linear(`${name}.emb`, embDim, outCh);
    norm(`${name}.norm2`, outCh);
    convolution(`${name}.conv2`, 3, outCh, outCh);
    if (inCh !== outCh) convolution(`${name}.skip`, 1, inCh, outCh);
  };

  linear('time_mlp1', c.baseChannels, embDim);
  linear('time_mlp2', embDim, embDim);
  if (c.numClasses > 0) specs.push({ name: 'label_emb.weight', shape: [c.numClasses + 1, embDim], init: 'normal' });
  convolution('conv_in', 3, c.inChannels, c.baseChannels);
  const blocks = resBlocks(c);
  const widths = c.channelMults.map((m) => m * c.baseChannels);
  blocks.filter((r) => r.name.startsWith('down.')).forEach(resBlock);
  if (c.downsample === 'conv') for (let i = 0; i < widths.length - 1; i++) convolution(`downsample.${i}.conv`, 3, widths[i], widths[i]);
  const ch = widths[widths.length - 1];
  resBlock(blocks.find((r) => r.name === 'mid1')!);
  if (c.attention) {
    norm('mid_attn.norm', ch);
    linear('mid_attn.qkv', ch, 3 * ch);
    linear('mid_attn.proj', ch, ch);
  }
  resBlock(blocks.find((r) => r.name === 'mid2')!);
  blocks.filter((r) => r.name.startsWith('up.')).forEach(resBlock);
  for (let k = 0; k < widths.length - 1; k++) {
    const w = widths[widths.length - 1 - k];
    convolution(`upsample.${k}.conv`, 3, w, w);
  }
  norm('norm_out', widths[0]);
  convolution('conv_out', 3, widths[0], c.inChannels, 'zeros');
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
    const blocks = resBlocks(c);
    /** Where each block's timestep projection starts in `proj`. */
    const projOffset = new Map<string, number>();
    blocks.reduce((at, r) => (projOffset.set(r.name, at), at + r.outCh), 0);
    /** proj [B, Σ out]: every block's timestep projection, computed together once. */
    const resBlock = (name: string, v: tf.Tensor, proj: tf.Tensor) => {
      let hdn = conv(w, `${name}.conv1`, groupNorm(w, `${name}.norm1`, v, c.groups, true));
      // the timestep enters every block: norm2 normalises conv1's output + this block's projection
      hdn = groupNorm(w, `${name}.norm2`, hdn, c.groups, true, { shift: proj, offset: projOffset.get(name)! });
      hdn = conv(w, `${name}.conv2`, dropout(hdn));
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

    // 1. timestep (+ label) embedding, and from SiLU(emb) every residual block's projection in one
    //    matMul: [B, 4·base] · [4·base, Σ out] (the blocks' weights side by side) + their biases
    let emb = dense(w, 'time_mlp2', silu(dense(w, 'time_mlp1', timestepEmbedding(t, c.baseChannels)))); // [B, 4·base]
    if (c.numClasses > 0) {
      const labels = options.labels ?? tf.fill([b], c.numClasses, 'int32');
      emb = tf.add(emb, tf.gather(weight(w, 'label_emb.weight'), labels));
    }
    const proj = tf.fused.matMul({
      a: silu(emb),
      b: tf.concat(
        blocks.map((r) => weight(w, `${r.name}.emb.weight`)),
        1,
      ),
      bias: tf.concat(blocks.map((r) => weight(w, `${r.name}.emb.bias`))),
    }); // [B, Σ out]
    // 2. down path, keeping each block's output for the skip connections
    let hdn = conv(w, 'conv_in', x);
    const skips: tf.Tensor[] = [];
    const levels = c.channelMults.length;
    for (let i = 0; i < levels; i++) {
      for (let j = 0; j < c.numResBlocks; j++) skips.push((hdn = resBlock(`down.${i}.${j}`, hdn, proj)));
      if (i < levels - 1) hdn = c.downsample === 'conv' ? conv(w, `downsample.${i}.conv`, hdn, 2) : avgPool2x2(hdn);
    }
    // 3. middle, at the lowest resolution
    hdn = resBlock('mid1', hdn, proj);
    if (c.attention) hdn = attention(hdn);
    hdn = resBlock('mid2', hdn, proj);
    // 4. up path: concatenate the matching skip, then upsample (nearest + conv)
    for (let k = 0; k < levels; k++) {
      for (let j = 0; j < c.numResBlocks; j++) hdn = resBlock(`up.${k}.${j}`, tf.concat([hdn, skips.pop()!], 3), proj);
      if (k < levels - 1) hdn = conv(w, `upsample.${k}.conv`, upsampleNearest2x(hdn));
    }
    // 5. back to image channels
    return conv(w, 'conv_out', groupNorm(w, 'norm_out', hdn, c.groups, true));
  });
}
