/**
 * One description for every U-Net: a model's layer plan — its time and label embeddings, then the
 * forward program as a list of nodes (convolutions, residual blocks, attention, resampling, skip
 * pushes and pops), each with its weights' names, its channels and the resolution it runs at. The
 * weight list, the forward pass (unet.ts) and the parameter and FLOP counts (flops.ts) all derive
 * from it; the playground's own U-Net, diffusers' UNet2DModel and the text-conditioned U-Net are
 * three plans of it (plans/).
 * Pure data: no tensors.
 */

/** How a 3×3 convolution pads: 'same' (stride 1), one pixel on every side, or one on the right and bottom (diffusers' downsample_padding 0). */
export type ConvPadding = 'same' | 'one' | 'right-bottom';

export interface ConvNode {
  op: 'conv';
  name: string;
  k: 1 | 3;
  cin: number;
  cout: number;
  stride: 1 | 2;
  padding: ConvPadding;
  /** Output side length. */
  size: number;
  /** A fresh model's output conv can start at zero (the playground's: training starts at loss ≈ 1). */
  zeroInit?: boolean;
}

/** A GroupNorm: its weights' prefix, channels, group count and ε. */
export interface NormSpec {
  name: string;
  ch: number;
  groups: number;
  eps: number;
}

/**
 * A residual block: GroupNorm → SiLU → conv1 → + proj(SiLU(emb)) → GroupNorm → SiLU → dropout → conv2,
 * plus the input (through a 1×1 shortcut when the channels change), divided by `scale`.
 */
export interface ResNode {
  op: 'res';
  /** The block's own name (its weights' common prefix). */
  name: string;
  norm1: NormSpec;
  conv1: string;
  /** The timestep projection (a dense layer from the embedding). */
  proj: string;
  norm2: NormSpec;
  conv2: string;
  shortcut: string | null;
  cin: number;
  cout: number;
  size: number;
  scale: number;
}

/**
 * A residual block named `name`, its layers under it (norm1, conv1, norm2, conv2) and the family's
 * names for its timestep projection and 1×1 shortcut (the latter only when the channels change).
 */
export function residual(
  name: string,
  names: { proj: string; shortcut: string },
  norm: (name: string, ch: number) => NormSpec,
  cin: number,
  cout: number,
  size: number,
  scale = 1,
): ResNode {
  return {
    op: 'res',
    name,
    norm1: norm(`${name}.norm1`, cin),
    conv1: `${name}.conv1`,
    proj: `${name}.${names.proj}`,
    norm2: norm(`${name}.norm2`, cout),
    conv2: `${name}.conv2`,
    shortcut: cin !== cout ? `${name}.${names.shortcut}` : null,
    cin,
    cout,
    size,
    scale,
  };
}

/** Self-attention over the size² positions, GroupNorm first, with a residual; `scale` divides the sum. */
export interface AttentionNode {
  op: 'attn';
  norm: NormSpec;
  ch: number;
  heads: number;
  size: number;
  /** One dense layer giving q, k and v side by side, or three. */
  qkv: { fused: string } | { q: string; k: string; v: string };
  out: string;
  scale: number;
}

/**
 * Cross-attention (the text's way into the picture): x + out(softmax(q kᵀ/√d + mask) v), q from the
 * GroupNorm'd image positions, k and v from the text encoder's token states (<pad> masked out);
 * its weights `name`.{norm, q, k, v, out}.
 */
export interface CrossAttentionNode {
  op: 'xattn';
  name: string;
  norm: NormSpec;
  ch: number;
  heads: number;
  size: number;
}

/**
 * The text encoder: token and position embeddings, `layers` pre-norm transformer layers
 * (`name`.layers.i.{norm1, qkv, out, norm2, mlp1, mlp2}: LayerNorm, self-attention with a <pad> mask,
 * LayerNorm, MLP of width 4·dim with SiLU), a final LayerNorm; its state at <start> (the pooled
 * text), through `proj`, is added to the timestep embedding.
 */
export interface TextEncoderSpec {
  name: string;
  vocabulary: number;
  maxTokens: number;
  dim: number;
  layers: number;
  heads: number;
  proj: string;
}

export type PlanNode =
  | ConvNode
  | ResNode
  | AttentionNode
  | CrossAttentionNode
  /** 2×2 average pooling. */
  | { op: 'avgpool'; size: number }
  /** Nearest-neighbour ×2 (a conv follows). */
  | { op: 'upsample'; size: number }
  /** Keep the current activation for a skip connection. */
  | { op: 'push' }
  /** Concatenate the last kept activation to the current one (channels: current first). */
  | { op: 'pop' }
  /** The output GroupNorm with SiLU. */
  | { op: 'normOut'; norm: NormSpec };

export interface Plan {
  imageSize: number;
  inChannels: number;
  outChannels: number;
  /** x ↦ 2x − 1 first (diffusers' center_input_sample). */
  centerInput: boolean;
  /**
   * The sinusoidal timestep embedding — [sin, cos] of t·f_i, f_i = 10000^(−i/(dim/2 − freqShift)), or
   * [cos, sin] — and its two-layer MLP (SiLU between), width `dim` → `embDim`.
   */
  time: { dim: number; freqShift: number; flipSinToCos: boolean; linear1: string; linear2: string; embDim: number };
  /** A learned class embedding added to the time embedding: `rows` rows, `noLabel` the "no label" row (null: the family has none). */
  labels: { name: string; rows: number; noLabel: number | null } | null;
  /** The prompt's encoder, on a text-conditioned model. */
  text: TextEncoderSpec | null;
  /** Dropout rate inside residual blocks during training. */
  dropout: number;
  nodes: PlanNode[];
  /**
   * The weights in the order the family's checkpoints list them (a fresh model draws its initial
   * values in this order), as a rank per weight-prefix: lower ranks first, ties in plan order.
   */
  rank?: (name: string) => number;
}

/** A weight's name and its shape as the engine holds it (conv [k, k, in, out], dense [in, out]). */
export interface WeightSpec {
  name: string;
  shape: number[];
  /** How a fresh model initialises it (PyTorch's defaults, or zeros for a zero-initialised output conv). */
  init: 'fanIn' | 'ones' | 'zeros' | 'normal';
}

/** Every weight of a plan, in its family's order. */
export function planWeights(plan: Plan): WeightSpec[] {
  const specs: WeightSpec[] = [];
  const dense = (name: string, i: number, o: number) =>
    specs.push({ name: `${name}.weight`, shape: [i, o], init: 'fanIn' }, { name: `${name}.bias`, shape: [o], init: 'fanIn' });
  const conv = (name: string, k: number, i: number, o: number, init: 'fanIn' | 'zeros' = 'fanIn') =>
    specs.push({ name: `${name}.weight`, shape: [k, k, i, o], init }, { name: `${name}.bias`, shape: [o], init });
  const norm = ({ name, ch }: Pick<NormSpec, 'name' | 'ch'>) =>
    specs.push({ name: `${name}.weight`, shape: [ch], init: 'ones' }, { name: `${name}.bias`, shape: [ch], init: 'zeros' });
  const { time, text } = plan;
  dense(time.linear1, time.dim, time.embDim);
  dense(time.linear2, time.embDim, time.embDim);
  if (plan.labels) specs.push({ name: `${plan.labels.name}.weight`, shape: [plan.labels.rows, time.embDim], init: 'normal' });
  if (text) {
    const d = text.dim;
    specs.push(
      { name: `${text.name}.token_emb.weight`, shape: [text.vocabulary, d], init: 'normal' },
      { name: `${text.name}.pos_emb.weight`, shape: [text.maxTokens, d], init: 'normal' },
    );
    for (let i = 0; i < text.layers; i++) {
      const layer = `${text.name}.layers.${i}`;
      norm({ name: `${layer}.norm1`, ch: d });
      dense(`${layer}.qkv`, d, 3 * d);
      dense(`${layer}.out`, d, d);
      norm({ name: `${layer}.norm2`, ch: d });
      dense(`${layer}.mlp1`, d, 4 * d);
      dense(`${layer}.mlp2`, 4 * d, d);
    }
    norm({ name: `${text.name}.norm_out`, ch: d });
    dense(text.proj, d, time.embDim);
  }
  for (const n of plan.nodes) {
    if (n.op === 'conv') conv(n.name, n.k, n.cin, n.cout, n.zeroInit ? 'zeros' : 'fanIn');
    else if (n.op === 'res') {
      norm(n.norm1);
      conv(n.conv1, 3, n.cin, n.cout);
      dense(n.proj, time.embDim, n.cout);
      norm(n.norm2);
      conv(n.conv2, 3, n.cout, n.cout);
      if (n.shortcut) conv(n.shortcut, 1, n.cin, n.cout);
    } else if (n.op === 'attn') {
      norm(n.norm);
      if ('fused' in n.qkv) dense(n.qkv.fused, n.ch, 3 * n.ch);
      else for (const name of [n.qkv.q, n.qkv.k, n.qkv.v]) dense(name, n.ch, n.ch);
      dense(n.out, n.ch, n.ch);
    } else if (n.op === 'xattn') {
      norm(n.norm);
      dense(`${n.name}.q`, n.ch, n.ch);
      dense(`${n.name}.k`, text!.dim, n.ch);
      dense(`${n.name}.v`, text!.dim, n.ch);
      dense(`${n.name}.out`, n.ch, n.ch);
    } else if (n.op === 'normOut') norm(n.norm);
  }
  const rank = plan.rank;
  if (!rank) return specs;
  return specs
    .map((s, i) => ({ s, i, r: rank(s.name) }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map((e) => e.s);
}

/** The residual blocks in forward order (their timestep projections are computed together). */
export const resNodes = (plan: Plan): ResNode[] => plan.nodes.filter((n): n is ResNode => n.op === 'res');

/**
 * Floating-point operations of one forward pass (a multiply-add is 2 FLOPs), by kind:
 *  - conv2d: 2·H_out·W_out·k·k·C_in·C_out,
 *  - dense (x·W): 2·rows·in·out (the timestep MLP and each block's timestep projection have one row per image),
 *  - attention: its dense layers go under `dense`; QKᵀ and softmax·V are 2·N·N·C each, N = H·W tokens;
 *    cross-attention's are 2·N·L·C each against L text tokens, and the text encoder's own are 2·L·L·dim,
 *    its dense layers one row per token.
 * Elementwise work (bias adds, GroupNorm, SiLU, softmax, pooling, upsampling, concat, the sinusoidal
 * embedding, the label-embedding gather) is ignored: it is a few percent of the total and memory-bound.
 */
export interface FlopCount {
  conv: number;
  dense: number;
  attention: number;
  total: number;
}

export function planFlops(plan: Plan, batch = 1): FlopCount {
  let conv = 0;
  let dense = 0;
  let attention = 0;
  const conv2d = (size: number, k: number, cin: number, cout: number) => (conv += 2 * size * size * k * k * cin * cout);
  const linear = (rows: number, cin: number, cout: number) => (dense += 2 * rows * cin * cout);
  const { time, text } = plan;
  linear(1, time.dim, time.embDim);
  linear(1, time.embDim, time.embDim);
  const textTokens = text?.maxTokens ?? 0;
  if (text) {
    const { dim: d, maxTokens: l } = text;
    for (let i = 0; i < text.layers; i++) {
      linear(l, d, 3 * d);
      attention += 2 * (2 * l * l * d);
      linear(l, d, d);
      linear(l, d, 4 * d);
      linear(l, 4 * d, d);
    }
    linear(1, d, time.embDim);
  }
  for (const n of plan.nodes) {
    if (n.op === 'conv') conv2d(n.size, n.k, n.cin, n.cout);
    else if (n.op === 'res') {
      conv2d(n.size, 3, n.cin, n.cout);
      linear(1, time.embDim, n.cout);
      conv2d(n.size, 3, n.cout, n.cout);
      if (n.shortcut) conv2d(n.size, 1, n.cin, n.cout);
    } else if (n.op === 'attn') {
      const tokens = n.size * n.size;
      linear(tokens, n.ch, 3 * n.ch); // q, k, v
      attention += 2 * (2 * tokens * tokens * n.ch); // QKᵀ and softmax(·)·V
      linear(tokens, n.ch, n.ch); // out
    } else if (n.op === 'xattn') {
      const positions = n.size * n.size;
      linear(positions, n.ch, n.ch); // q
      linear(2 * textTokens, text!.dim, n.ch); // k, v
      attention += 2 * (2 * positions * textTokens * n.ch);
      linear(positions, n.ch, n.ch); // out
    }
  }
  return { conv: batch * conv, dense: batch * dense, attention: batch * attention, total: batch * (conv + dense + attention) };
}

/** Number of parameters. */
export const planParams = (plan: Plan): number => planWeights(plan).reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
