import type { UNet2DConfig } from '../unet2d-config';
import { residual, type NormSpec, type Plan, type PlanNode, type ResNode } from '../plan';

/**
 * diffusers' UNet2DModel (tools/torch/diffusers_unet.py is its PyTorch twin): conv_in; down blocks of
 * layers_per_block resnets (each followed by attention in an AttnDownBlock2D), every resnet output,
 * conv_in's and every downsample's kept for a skip; a stride-2 conv between levels; the mid block
 * (resnet, attention, resnet); up blocks of layers_per_block + 1 resnets, each taking one skip; nearest
 * + conv up; GroupNorm, SiLU, conv_out. The timestep's sinusoid of block_out_channels[0] widths, its MLP
 * to 4× that; a class embedding of num_class_embeds rows, none of them "no label".
 */
export function unet2dPlan(c: UNet2DConfig): Plan {
  const norm = (name: string, ch: number): NormSpec => ({ name, ch, groups: c.normNumGroups, eps: c.normEps });
  const res = (name: string, cin: number, cout: number, size: number, scale = 1): ResNode =>
    residual(name, { proj: 'time_emb_proj', shortcut: 'conv_shortcut' }, norm, cin, cout, size, scale);
  const attn = (name: string, ch: number, size: number, scale = 1): PlanNode => ({
    op: 'attn',
    norm: norm(`${name}.group_norm`, ch),
    ch,
    heads: c.attentionHeadDim === null ? 1 : ch / c.attentionHeadDim,
    size,
    qkv: { q: `${name}.to_q`, k: `${name}.to_k`, v: `${name}.to_v` },
    out: `${name}.to_out.0`,
    scale,
  });
  const widths = c.blockOutChannels;
  const levels = widths.length;
  let size = c.imageSize;
  let ch = widths[0];
  const skips: number[] = [ch];
  const nodes: PlanNode[] = [
    { op: 'conv', name: 'conv_in', k: 3, cin: c.inChannels, cout: ch, stride: 1, padding: 'same', size },
    { op: 'push' },
  ];
  // 1. down blocks
  c.downBlockTypes.forEach((type, i) => {
    for (let j = 0; j < c.layersPerBlock; j++) {
      nodes.push(res(`down_blocks.${i}.resnets.${j}`, ch, widths[i], size));
      ch = widths[i];
      if (type === 'AttnDownBlock2D') nodes.push(attn(`down_blocks.${i}.attentions.${j}`, ch, size));
      nodes.push({ op: 'push' });
      skips.push(ch);
    }
    if (i < levels - 1) {
      size /= 2;
      const padding = c.downsamplePadding === 0 ? 'right-bottom' : 'one';
      nodes.push(
        { op: 'conv', name: `down_blocks.${i}.downsamplers.0.conv`, k: 3, cin: ch, cout: ch, stride: 2, padding, size },
        { op: 'push' },
      );
      skips.push(ch);
    }
  });
  // 2. mid block
  const scale = c.midBlockScaleFactor;
  nodes.push(res('mid_block.resnets.0', ch, ch, size, scale));
  if (c.addAttention) nodes.push(attn('mid_block.attentions.0', ch, size, scale));
  nodes.push(res('mid_block.resnets.1', ch, ch, size, scale));
  // 3. up blocks: each resnet concatenates one skip
  c.upBlockTypes.forEach((type, i) => {
    const w = widths[levels - 1 - i];
    for (let j = 0; j <= c.layersPerBlock; j++) {
      nodes.push({ op: 'pop' }, res(`up_blocks.${i}.resnets.${j}`, ch + skips.pop()!, w, size));
      ch = w;
      if (type === 'AttnUpBlock2D') nodes.push(attn(`up_blocks.${i}.attentions.${j}`, ch, size));
    }
    if (i < levels - 1) {
      size *= 2;
      nodes.push(
        { op: 'upsample', size },
        { op: 'conv', name: `up_blocks.${i}.upsamplers.0.conv`, k: 3, cin: ch, cout: ch, stride: 1, padding: 'same', size },
      );
    }
  });
  // 4. out
  nodes.push(
    { op: 'normOut', norm: norm('conv_norm_out', ch) },
    { op: 'conv', name: 'conv_out', k: 3, cin: ch, cout: c.outChannels, stride: 1, padding: 'same', size },
  );
  return {
    imageSize: c.imageSize,
    inChannels: c.inChannels,
    outChannels: c.outChannels,
    centerInput: c.centerInputSample,
    time: {
      dim: widths[0],
      freqShift: c.freqShift,
      flipSinToCos: c.flipSinToCos,
      linear1: 'time_embedding.linear_1',
      linear2: 'time_embedding.linear_2',
      embDim: 4 * widths[0],
    },
    labels: c.numClassEmbeds ? { name: 'class_embedding', rows: c.numClassEmbeds, noLabel: c.noLabelClass } : null,
    text: null,
    dropout: c.dropout,
    nodes,
  };
}
