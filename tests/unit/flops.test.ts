import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_UNET_CONFIG, type UNetConfig } from '../../src/model/config';
import { unetFlops, unetParams } from '../../src/model/flops';

// 4×4×1 input, widths 2 → 4, one block per level, attention at 2×2; time embedding 4·2 = 8 wide.
const tiny: UNetConfig = {
  imageSize: 4,
  inChannels: 1,
  baseChannels: 2,
  channelMults: [1, 2],
  numResBlocks: 1,
  attention: true,
  dropout: 0,
  numClasses: 0,
  groups: 1,
  downsample: 'avgpool',
};

/** 2·H·W·k·k·Cin·Cout */
const conv = (hw: number, k: number, cin: number, cout: number) => 2 * hw * hw * k * k * cin * cout;

describe('unetFlops', () => {
  it('matches a layer-by-layer hand count on a tiny config', () => {
    // conv layers, in forward order
    const convs = [
      2 * 16 * 9 * 1 * 2, // conv_in, 4×4, 1 → 2: 576
      2 * 16 * 9 * 2 * 2,
      2 * 16 * 9 * 2 * 2, // down.0.0 conv1, conv2 (4×4, 2 → 2): 1152 each
      2 * 4 * 9 * 2 * 4,
      2 * 4 * 9 * 4 * 4,
      2 * 4 * 1 * 2 * 4, // down.1.0 at 2×2, 2 → 4: 576, 1152, skip 64
      2 * 4 * 9 * 4 * 4,
      2 * 4 * 9 * 4 * 4, // mid1: 1152 each
      2 * 4 * 9 * 4 * 4,
      2 * 4 * 9 * 4 * 4, // mid2
      2 * 4 * 9 * 8 * 4,
      2 * 4 * 9 * 4 * 4,
      2 * 4 * 8 * 4, // up.0.0, 4 + 4 skip = 8 → 4: 2304, 1152, skip 256
      2 * 16 * 9 * 4 * 4, // upsample.0.conv at 4×4: 4608
      2 * 16 * 9 * 6 * 2,
      2 * 16 * 9 * 2 * 2,
      2 * 16 * 6 * 2, // up.1.0, 4 + 2 = 6 → 2: 3456, 1152, skip 384
      2 * 16 * 9 * 2 * 1, // conv_out: 576
    ];
    const dense = [
      2 * 2 * 8,
      2 * 8 * 8, // time_mlp1, time_mlp2: 32, 128
      2 * 8 * 2,
      2 * 8 * 4,
      2 * 8 * 4,
      2 * 8 * 4,
      2 * 8 * 4,
      2 * 8 * 2, // per-block timestep projections
      2 * 4 * 4 * 12,
      2 * 4 * 4 * 4, // attention qkv and proj over N = 4 tokens of 4 channels
    ];
    const attention = 2 * (2 * 4 * 4 * 4); // QKᵀ and softmax·V, N×N×C each
    const f = unetFlops(tiny);
    expect(f.conv).toBe(23168);
    expect(convs.reduce((a, b) => a + b)).toBe(23168);
    expect(f.dense).toBe(992);
    expect(dense.reduce((a, b) => a + b)).toBe(992);
    expect(f.attention).toBe(attention);
    expect(f.total).toBe(23168 + 992 + 256);
  });

  it('counts the stride-2 downsampling conv at its output resolution, and scales with the batch', () => {
    const withConv = unetFlops({ ...tiny, downsample: 'conv' });
    expect(withConv.conv - unetFlops(tiny).conv).toBe(conv(2, 3, 2, 2));
    expect(unetFlops(tiny, 16).total).toBe(16 * unetFlops(tiny).total);
    expect(unetFlops({ ...tiny, attention: false }).attention).toBe(0);
  });

  it('gives the shipped model ≈ 0.24 GFLOPs per image', () => {
    const f = unetFlops(DEFAULT_UNET_CONFIG);
    expect(f.total / 1e9).toBeGreaterThan(0.2);
    expect(f.total / 1e9).toBeLessThan(0.3);
    expect(f.conv / f.total).toBeGreaterThan(0.99);
  });

  it("counts PyTorch's parameters: the parity fixtures' configs against tools/torch's own count (make_fixtures.py)", () => {
    for (const name of ['mnist-like', 'rgb-attention']) {
      const dir = `tests/fixtures/parity/${name}`;
      const { modelTopology } = JSON.parse(readFileSync(`${dir}/model.json`, 'utf8')) as { modelTopology: { unet: UNetConfig } };
      const { numParams } = JSON.parse(readFileSync(`${dir}/io.json`, 'utf8')) as { numParams: number };
      expect(unetParams(modelTopology.unet)).toBe(numParams);
    }
  });
});
