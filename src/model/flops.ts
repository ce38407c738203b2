import type { UNetConfig } from './config';
import { weightSpecs } from './unet';

/**
 * Floating-point operations of one U-Net forward pass, counted analytically from the config
 * (a multiply-add is 2 FLOPs), split by kind. Only the multiply-add ops are counted:
 *  - conv2d: 2·H_out·W_out·k·k·C_in·C_out,
 *  - dense (x·W): 2·rows·in·out (the timestep MLP and each block's timestep projection have one row per image),
 *  - attention: the qkv/proj dense layers go under `dense`; QKᵀ and softmax·V are 2·N·N·C each, N = H·W tokens.
 * Elementwise work (bias adds, GroupNorm, SiLU, softmax, pooling, upsampling, concat, the sinusoidal
 * embedding, the label-embedding gather) is ignored: it is a few percent of the total and memory-bound.
 */
export interface FlopCount {
  conv: number;
  dense: number;
  attention: number;
  total: number;
}

/** FLOPs of one forward pass at the given batch size (everything scales linearly with the batch). */
export function unetFlops(c: UNetConfig, batch = 1): FlopCount {
  let conv = 0;
  let dense = 0;
  let attention = 0;
  const embDim = 4 * c.baseChannels;
  const conv2d = (size: number, k: number, cin: number, cout: number) => (conv += 2 * size * size * k * k * cin * cout);
  const linear = (rows: number, cin: number, cout: number) => (dense += 2 * rows * cin * cout);
  const resBlock = (size: number, cin: number, cout: number) => {
    conv2d(size, 3, cin, cout); // conv1
    linear(1, embDim, cout); // timestep projection, once per image
    conv2d(size, 3, cout, cout); // conv2
    if (cin !== cout) conv2d(size, 1, cin, cout); // 1×1 skip
  };

  // 1. timestep MLP (the label embedding is a gather: no FLOPs)
  linear(1, c.baseChannels, embDim);
  linear(1, embDim, embDim);
  // 2. down path
  let size = c.imageSize;
  conv2d(size, 3, c.inChannels, c.baseChannels);
  const widths = c.channelMults.map((m) => m * c.baseChannels);
  const skips: number[] = [];
  let ch = c.baseChannels;
  widths.forEach((w, i) => {
    for (let j = 0; j < c.numResBlocks; j++) {
      resBlock(size, ch, w);
      ch = w;
      skips.push(ch);
    }
    if (i < widths.length - 1) {
      size /= 2;
      if (c.downsample === 'conv') conv2d(size, 3, w, w); // stride 2: counted at the output resolution
    }
  });
  // 3. middle
  resBlock(size, ch, ch);
  if (c.attention) {
    const n = size * size;
    linear(n, ch, 3 * ch); // qkv
    attention += 2 * n * n * ch; // QKᵀ
    attention += 2 * n * n * ch; // softmax(·)·V
    linear(n, ch, ch); // proj
  }
  resBlock(size, ch, ch);
  // 4. up path
  for (let k = 0; k < widths.length; k++) {
    const w = widths[widths.length - 1 - k];
    for (let j = 0; j < c.numResBlocks; j++) {
      resBlock(size, ch + skips.pop()!, w);
      ch = w;
    }
    if (k < widths.length - 1) {
      size *= 2;
      conv2d(size, 3, ch, ch); // nearest upsample, then conv
    }
  }
  // 5. output
  conv2d(size, 3, ch, c.inChannels);
  return { conv: batch * conv, dense: batch * dense, attention: batch * attention, total: batch * (conv + dense + attention) };
}

/** Number of trainable parameters (the same as UNet.numParams, without building the model). */
export function unetParams(c: UNetConfig): number {
  return weightSpecs(c).reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
}
