import { groupCount, type UNetConfig } from '../config';
import { residual, type NormSpec, type Plan, type PlanNode, type ResNode } from '../plan';

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
      nodes.push(res(`down.${i}.${j}`, ch, w, size), { op: 'push' });
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
  nodes.push(res('mid2', ch, ch, size));
  // 3. up: concatenate the matching skip before each block; nearest ×2 + conv between levels
  for (let k = 0; k < levels; k++) {
    const w = widths[levels - 1 - k];
    for (let j = 0; j < c.numResBlocks; j++) {
      nodes.push({ op: 'pop' }, res(`up.${k}.${j}`, ch + skips.pop()!, w, size));
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
    labels: c.numClasses > 0 ? { name: 'label_emb', rows: c.numClasses + 1, noLabel: c.numClasses } : null,
    dropout: c.dropout,
    nodes,
    rank: stateDictRank,
  };
}

/** tools/torch/unet.py's state_dict order: embeddings, conv_in, down blocks, downsample convs, middle, up blocks, upsample convs, out. */
function stateDictRank(name: string): number {
  const order = [/^(time_mlp|label_emb)/, /^conv_in/, /^down\./, /^downsample\./, /^mid/, /^up\./, /^upsample\./, /^(norm_out|conv_out)/];
  return order.findIndex((r) => r.test(name));
}
