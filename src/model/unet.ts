import * as tf from '@tensorflow/tfjs';
import { GaussianRng } from '../diffusion/random';
import type { ModelConfig } from './config';
import { timestepEmbedding } from './kernels/timestep-embedding';
import { avgPool2x2, conv, dense, groupNorm, layerNorm, multiHeadAttention, silu, upsampleNearest2x, weight, type Weights } from './layers';
import { planWeights, resNodes, type AttentionNode, type CrossAttentionNode, type Plan, type ResNode, type WeightSpec } from './plan';
import { planOf } from './plans';

export type { WeightSpec } from './plan';

/** Name and shape of every weight of a config, in its family's order. */
export const weightSpecs = (c: ModelConfig): WeightSpec[] => planWeights(planOf(c));

/** Fan-in of a weight or bias, for PyTorch's default U(−1/√fanIn, 1/√fanIn) initialisation. */
function fanIn(specs: WeightSpec[], spec: WeightSpec): number {
  const w = spec.name.endsWith('.bias') ? specs.find((s) => s.name === spec.name.replace(/\.bias$/, '.weight'))!.shape : spec.shape;
  return w.length === 4 ? w[0] * w[1] * w[2] : w[0];
}

/** Fresh weights for a config, deterministic for a seed. The caller owns the tensors. */
export function initWeights(c: ModelConfig, seed = 0): Map<string, tf.Tensor> {
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
  /** Class labels [B] (int32); on a playground model index numClasses means "no label". Omitted on a conditional model: all "no label". */
  labels?: tf.Tensor1D;
  /** A text model's prompts, encoded (encodeText). Omitted: the empty prompt. */
  text?: EncodedText;
  /**
   * A text model: receives one tensor [B, H, W, L], the cross-attention weights of every image
   * position on each of the L tokens, averaged over heads and layers, each layer's map upsampled
   * (bilinear, half-pixel centres as PyTorch's) to the image's size. The caller owns it.
   */
  attentionMaps?: tf.Tensor[];
  /** Training mode: dropout on. */
  training?: boolean;
}

/** A text model's prompts as the U-Net reads them (encodeText); the same for every step of a run. */
// a type, not an interface: tf.tidy may return it
export type EncodedText = {
  /** The encoder's token states, [B, L, dim]. */
  tokens: tf.Tensor;
  /** Added to attention logits, [B, 1, 1, L]: 0 for <start> and the words, −1e9 for <pad>. */
  mask: tf.Tensor;
  /** The state at <start> (the pooled text), [B, dim]. */
  pooled: tf.Tensor;
};

/**
 * The text encoder (plan.text): token ids [B, L] (int32; src/text/tokenizer.ts) → token states,
 * their mask and the pooled state. A pre-norm transformer: x + MHA(LN(x)) with <pad> masked, then
 * x + MLP(LN(x)) (SiLU), a final LayerNorm. The caller owns the tensors.
 */
export function encodeText(c: ModelConfig, w: Weights, ids: tf.Tensor): EncodedText {
  const text = planOf(c).text;
  if (!text) throw new RangeError('this model takes no text');
  const [b, l] = ids.shape;
  if (ids.rank !== 2 || l > text.maxTokens) throw new RangeError(`token ids must be [B, ≤ ${text.maxTokens}], got [${ids.shape}]`);
  return tf.tidy(() => {
    const mask = tf.reshape(tf.mul(tf.cast(tf.equal(ids, 0), 'float32'), -1e9), [b, 1, 1, l]);
    const positions = tf.slice(weight(w, `${text.name}.pos_emb.weight`), [0, 0], [l, text.dim]);
    let x = tf.add(tf.gather(weight(w, `${text.name}.token_emb.weight`), ids), positions); // [B, L, dim]
    const rows = (m: tf.Tensor) => tf.reshape(m, [b * l, text.dim]);
    for (let i = 0; i < text.layers; i++) {
      const layer = `${text.name}.layers.${i}`;
      const [q, k, v] = tf.split(tf.reshape(dense(w, `${layer}.qkv`, rows(layerNorm(w, `${layer}.norm1`, x))), [b, l, 3 * text.dim]), 3, 2);
      const { out } = multiHeadAttention(q, k, v, text.heads, mask);
      x = tf.add(x, tf.reshape(dense(w, `${layer}.out`, rows(out)), [b, l, text.dim]));
      const mlp = dense(w, `${layer}.mlp2`, silu(dense(w, `${layer}.mlp1`, rows(layerNorm(w, `${layer}.norm2`, x)))));
      x = tf.add(x, tf.reshape(mlp, [b, l, text.dim]));
    }
    const tokens = layerNorm(w, `${text.name}.norm_out`, x);
    return { tokens, mask, pooled: tf.reshape(tf.slice(tokens, [0, 0, 0], [b, 1, text.dim]), [b, text.dim]) };
  });
}

/** The empty prompt's token ids for a batch: <start>, then <pad>. */
export function emptyPromptIds(c: ModelConfig, batch: number): tf.Tensor2D {
  const l = planOf(c).text!.maxTokens;
  return tf.tensor2d(
    Array.from({ length: batch * l }, (_, i) => (i % l === 0 ? 1 : 0)),
    [batch, l],
    'int32',
  );
}

/**
 * ε_θ(x_t, t, condition): the noise predictor (the condition a class label or a text), the plan of `c` run node by node. x [B, H, W, C] in the
 * data range, t [B] (0-based timesteps) → the network's output shaped [B, H, W, outChannels]. Knows
 * nothing of noise schedules: t is only embedded.
 */
export function applyUNet(c: ModelConfig, w: Weights, x: tf.Tensor, t: tf.Tensor, options: ApplyOptions = {}): tf.Tensor {
  const plan = planOf(c);
  const [b, h, wd, ch0] = x.shape;
  if (x.rank !== 4 || h !== plan.imageSize || wd !== plan.imageSize || ch0 !== plan.inChannels)
    throw new RangeError(`the model takes [B, ${plan.imageSize}, ${plan.imageSize}, ${plan.inChannels}] images, got [${x.shape}]`);
  if (t.rank !== 1 || t.shape[0] !== b) throw new RangeError(`need one timestep per image: t is [${t.shape}], batch is ${b}`);
  return tf.tidy(() => {
    const dropout = (v: tf.Tensor) => (options.training && plan.dropout > 0 ? tf.dropout(v, plan.dropout) : v);
    const blocks = resNodes(plan);
    /** Where each block's timestep projection starts in `proj`. */
    const projOffset = new Map<ResNode, number>();
    blocks.reduce((at, r) => (projOffset.set(r, at), at + r.cout), 0);
    /** proj [B, Σ out]: every block's timestep projection, computed together once. */
    const resBlock = (r: ResNode, v: tf.Tensor, proj: tf.Tensor) => {
      let hdn = conv(w, r.conv1, groupNorm(w, r.norm1, v, true));
      // the timestep enters every block: norm2 normalises conv1's output + this block's projection
      hdn = groupNorm(w, r.norm2, hdn, true, { shift: proj, offset: projOffset.get(r)! });
      hdn = conv(w, r.conv2, dropout(hdn));
      const out = tf.add(hdn, r.shortcut ? conv(w, r.shortcut, v) : v);
      return r.scale === 1 ? out : tf.div(out, r.scale);
    };
    const attention = (a: AttentionNode, v: tf.Tensor) => {
      const [, hh, ww, cc] = v.shape;
      const n = hh * ww;
      const tokens = tf.reshape(groupNorm(w, a.norm, v), [b * n, cc]);
      let q: tf.Tensor, k: tf.Tensor, val: tf.Tensor;
      if ('fused' in a.qkv)
        [q, k, val] = tf.split(tf.reshape(dense(w, a.qkv.fused, tokens), [b, n, 3 * cc]), 3, 2); // [B, N, C] each
      else [q, k, val] = [a.qkv.q, a.qkv.k, a.qkv.v].map((name) => tf.reshape(dense(w, name, tokens), [b, n, cc]));
      const d = cc / a.heads;
      // several heads: [B, N, C] → [B, heads, N, d]
      const heads = (m: tf.Tensor) => (a.heads === 1 ? m : tf.transpose(tf.reshape(m, [b, n, a.heads, d]), [0, 2, 1, 3]));
      const att = tf.softmax(tf.div(tf.matMul(heads(q), heads(k), false, true), Math.sqrt(d))); // [B, (heads,) N, N]
      let mixed = tf.matMul(att, heads(val));
      if (a.heads > 1) mixed = tf.transpose(mixed, [0, 2, 1, 3]);
      const out = dense(w, a.out, tf.reshape(mixed, [b * n, cc]));
      const sum = tf.add(v, tf.reshape(out, [b, hh, ww, cc]));
      return a.scale === 1 ? sum : tf.div(sum, a.scale);
    };
    const text = plan.text ? (options.text ?? encodeText(c, w, emptyPromptIds(c, b))) : null;
    const maps: tf.Tensor[] = [];
    const crossAttention = (a: CrossAttentionNode, v: tf.Tensor) => {
      const [, hh, ww, cc] = v.shape;
      const n = hh * ww;
      const l = text!.tokens.shape[1]!;
      const q = tf.reshape(dense(w, `${a.name}.q`, tf.reshape(groupNorm(w, a.norm, v), [b * n, cc])), [b, n, cc]);
      const tokenRows = tf.reshape(text!.tokens, [b * l, plan.text!.dim]);
      const k = tf.reshape(dense(w, `${a.name}.k`, tokenRows), [b, l, cc]);
      const val = tf.reshape(dense(w, `${a.name}.v`, tokenRows), [b, l, cc]);
      const { out, weights } = multiHeadAttention(q, k, val, a.heads, text!.mask);
      if (options.attentionMaps)
        maps.push(tf.image.resizeBilinear(tf.reshape<tf.Rank.R4>(tf.mean(weights, 1), [b, hh, ww, l]), [h, wd], false, true));
      return tf.add(v, tf.reshape(dense(w, `${a.name}.out`, tf.reshape(out, [b * n, cc])), [b, hh, ww, cc]));
    };

    // 1. timestep (+ label) embedding, and from SiLU(emb) every residual block's projection in one
    //    matMul: [B, embDim] · [embDim, Σ out] (the blocks' weights side by side) + their biases
    let emb = embed(plan, w, t, options.labels, b); // [B, embDim]
    if (text) emb = tf.add(emb, dense(w, plan.text!.proj, text.pooled));
    const proj = tf.fused.matMul({
      a: silu(emb),
      b: tf.concat(
        blocks.map((r) => weight(w, `${r.proj}.weight`)),
        1,
      ),
      bias: tf.concat(blocks.map((r) => weight(w, `${r.proj}.bias`))),
    }); // [B, Σ out]
    // 2. the nodes in order, keeping activations for the skip connections
    let hdn = plan.centerInput ? tf.sub(tf.mul(x, 2), 1) : x;
    const skips: tf.Tensor[] = [];
    for (const node of plan.nodes) {
      if (node.op === 'conv') hdn = conv(w, node.name, hdn, node.stride, node.padding);
      else if (node.op === 'res') hdn = resBlock(node, hdn, proj);
      else if (node.op === 'attn') hdn = attention(node, hdn);
      else if (node.op === 'xattn') hdn = crossAttention(node, hdn);
      else if (node.op === 'avgpool') hdn = avgPool2x2(hdn);
      else if (node.op === 'upsample') hdn = upsampleNearest2x(hdn);
      else if (node.op === 'push') skips.push(hdn);
      else if (node.op === 'pop') hdn = tf.concat([hdn, skips.pop()!], 3);
      else hdn = groupNorm(w, node.norm, hdn, true);
    }
    if (options.attentionMaps && maps.length) options.attentionMaps.push(tf.keep(tf.div(tf.addN(maps), maps.length)));
    return hdn;
  });
}

/** The time embedding MLP(sinusoid(t)), plus the class embedding when the model has one: [B, embDim]. */
function embed(plan: Plan, w: Weights, t: tf.Tensor, labels: tf.Tensor1D | undefined, b: number): tf.Tensor {
  const { time } = plan;
  let sinusoid = timestepEmbedding(t, time.dim, time.freqShift); // [B, dim]: [sin, cos]
  if (time.flipSinToCos) sinusoid = tf.concat(tf.split(sinusoid, 2, 1).reverse(), 1); // [cos, sin]
  let emb = dense(w, time.linear2, silu(dense(w, time.linear1, sinusoid)));
  if (plan.labels) {
    const { name, noLabel } = plan.labels;
    if (!labels && noLabel === null) throw new RangeError('this class-conditional model has no "no label" class: give every image a class');
    emb = tf.add(emb, tf.gather(weight(w, `${name}.weight`), labels ?? tf.fill([b], noLabel!, 'int32')));
  }
  return emb;
}
