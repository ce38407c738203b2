import { groupCount, type UNetConfig } from '../config';
import { residual, type NormSpec, type Plan, type PlanNode, type ResNode } from '../plan';

/** The levels' part of a config, shared by the playground U-Net and the text U-Net. */
export type Levels = Pick<
  UNetConfig,
  'imageSize' | 'inChannels' | 'baseChannels' | 'channelMults' | 'numResBlocks' | 'attention' | 'dropout' | 'groups' | 'downsample'
>;

/** Nodes a family adds after a residual block (named by its place: 'down_xattn.2_0', 'mid_xattn', 'up_xattn.1_0'), or none. */
export type After = (place: string, level: number, ch: number, size: number, norm: (name: string, ch: number) => NormSpec) => PlanNode[];

/** PyTorch's GroupNorm ε, the playground U-Net's. */
const EPS = 1e-5;

/**
 * The playground's own U-Net (tools/torch/unet.py has the same layers and names): per level
 * numResBlocks residual blocks, each kept for a skip; average-pool or stride-2-conv down; middle
 * block, optional one-head attention, block; up levels whose blocks take the matching skip; nearest
 * + conv up; the timestep's sinusoid of baseChannels widths (f_i = 10000^(−i/(half−1))), its MLP to
 * 4·base; classes embedded with one more "no label" row.
 */
export function playgroundPlan(c: UNetConfig): Plan {
  return {
    ...levelsPlan(c, () => []),
    labels: c.numClasses > 0 ? { name: 'label_emb', rows: c.numClasses + 1, noLabel: c.numClasses } : null,
    text: null,
  };
}

/** The plan of the levels, with `after`'s nodes after each block (and after the middle attention); no labels, no text. */
export function levelsPlan(c: Levels, after: After): Omit<Plan, 'labels' | 'text'> {
  const norm = (name: string, ch: number): NormSpec => ({ name, ch, groups: groupCount(c.groups, ch), eps: EPS });
  const res = (name: string, cin: number, cout: number, size: number): ResNode =>
    residual(name, { proj: 'emb', shortcut: 'skip' }, norm, cin, cout, size);
  const widths = c.channelMults.map((m) => m * c.baseChannels);
  const levels = widths.length;
  let size = c.imageSize;
  let ch = c.baseChannels;
  const skips: number[] = [];
  const nodes: PlanNode[] = [{ op: 'conv', name: 'conv_in', k: 3, cin: c.inChannels, cout: ch, stride: 1, padding: 'same', size }];
  // 1. down: each block's output is kept for the up path
  widths.forEach((w, i) => {
    for (let j = 0; j < c.numResBlocks; j++) {
      nodes.push(res(`down.${i}.${j}`, ch, w, size), ...after(`down_xattn.${i}_${j}`, i, w, size, norm), { op: 'push' });
      ch = w;
      skips.push(ch);
    }
    if (i < levels - 1) {
      size /= 2;
      nodes.push(
        c.downsample === 'conv'
          ? { op: 'conv', name: `downsample.${i}.conv`, k: 3, cin: w, cout: w, stride: 2, padding: 'one', size }
          : { op: 'avgpool', size },
      );
    }
  });
  // 2. middle, at the lowest resolution
  nodes.push(res('mid1', ch, ch, size));
  if (c.attention)
    nodes.push({
      op: 'attn',
      norm: { ...norm('mid_attn.norm', ch) },
      ch,
      heads: 1,
      size,
      qkv: { fused: 'mid_attn.qkv' },
      out: 'mid_attn.proj',
      scale: 1,
    });
  nodes.push(...after('mid_xattn', levels - 1, ch, size, norm), res('mid2', ch, ch, size));
  // 3. up: concatenate the matching skip before each block; nearest ×2 + conv between levels
  for (let k = 0; k < levels; k++) {
    const w = widths[levels - 1 - k];
    for (let j = 0; j < c.numResBlocks; j++) {
      nodes.push(
        { op: 'pop' },
        res(`up.${k}.${j}`, ch + skips.pop()!, w, size),
        ...after(`up_xattn.${k}_${j}`, levels - 1 - k, w, size, norm),
      );
      ch = w;
    }
    if (k < levels - 1) {
      size *= 2;
      nodes.push(
        { op: 'upsample', size },
        { op: 'conv', name: `upsample.${k}.conv`, k: 3, cin: w, cout: w, stride: 1, padding: 'same', size },
      );
    }
  }
  // 4. out
  nodes.push(
    { op: 'normOut', norm: norm('norm_out', ch) },
    { op: 'conv', name: 'conv_out', k: 3, cin: ch, cout: c.inChannels, stride: 1, padding: 'same', size, zeroInit: true },
  );
  return {
    imageSize: c.imageSize,
    inChannels: c.inChannels,
    outChannels: c.inChannels,
    centerInput: false,
    time: {
      dim: c.baseChannels,
      freqShift: 1,
      flipSinToCos: false,
      linear1: 'time_mlp1',
      linear2: 'time_mlp2',
      embDim: 4 * c.baseChannels,
    },
    dropout: c.dropout,
    nodes,
    rank: stateDictRank,
  };
}

/**
 * tools/torch's state_dict order (unet.py, text_unet.py): embeddings, the text encoder and its
 * projection, conv_in, down blocks, their cross-attention, downsample convs, middle, up blocks, their
 * cross-attention, upsample convs, out.
 */
function stateDictRank(name: string): number {
  const order = [
    /^(time_mlp|label_emb)/,
    /^text\./,
    /^text_proj/,
    /^conv_in/,
    /^down\./,
    /^down_xattn\./,
    /^downsample\./,
    /^mid/,
    /^up\./,
    /^up_xattn\./,
    /^upsample\./,
    /^(norm_out|conv_out)/,
  ];
  return order.findIndex((r) => r.test(name));
}
