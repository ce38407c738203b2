import { execFileSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { UNet } from '../src/model/model';
import { parseUNet2DConfig } from '../src/model/unet2d-config';
import { median, modelInputs, timed } from './timing';

/** What every published DDPM model's config.json shares: two resnets a level, one attention head, the paper's embedding and padding. */
const PAPER = {
  layers_per_block: 2,
  attention_head_dim: null,
  downsample_padding: 0,
  flip_sin_to_cos: false,
  freq_shift: 1,
  norm_eps: 1e-6,
};

/** The DDPM paper's published layouts (google/ddpm-cifar10-32 and the 256-px ones, e.g. google/ddpm-cat-256), as config.json says. */
export const DIFFUSERS_LAYOUTS = {
  'ddpm-cifar10-32': {
    sample_size: 32,
    block_out_channels: [128, 256, 256, 256],
    down_block_types: ['DownBlock2D', 'AttnDownBlock2D', 'DownBlock2D', 'DownBlock2D'],
    up_block_types: ['UpBlock2D', 'UpBlock2D', 'AttnUpBlock2D', 'UpBlock2D'],
    ...PAPER,
  },
  'ddpm-256': {
    sample_size: 256,
    block_out_channels: [128, 128, 256, 256, 512, 512],
    down_block_types: ['DownBlock2D', 'DownBlock2D', 'DownBlock2D', 'DownBlock2D', 'AttnDownBlock2D', 'DownBlock2D'],
    up_block_types: ['UpBlock2D', 'AttnUpBlock2D', 'UpBlock2D', 'UpBlock2D', 'UpBlock2D', 'UpBlock2D'],
    ...PAPER,
  },
} as const;

export interface DiffusersForward {
  layout: string;
  params: number;
  batch: number;
  /** Median ms of the forward pass on the active tfjs backend. */
  tfjsMs: number;
  runs: number;
  pytorch: { forwardMs: number; torch: string; threads: number } | { notMeasured: string };
  /** PyTorch's time / tfjs' (≥ 1: tfjs is as fast or faster). */
  ratio?: number;
}

/**
 * The forward pass of a published layout at batch 1 (random weights) on the active backend, beside
 * PyTorch in the same run: on this CPU (2 threads), or on `torchDevice` (a GPU machine's cuda).
 */
export async function benchDiffusersForward(
  layout: keyof typeof DIFFUSERS_LAYOUTS,
  runs: number,
  log: (s: string) => void,
  { python = process.env.BENCH_PYTHON ?? '/usr/bin/python3', torchDevice = 'cpu' } = {},
): Promise<DiffusersForward> {
  const config = parseUNet2DConfig(DIFFUSERS_LAYOUTS[layout]);
  const model = UNet.create(config, 0);
  const { x, t } = modelInputs(config, 1);
  const times: number[] = [];
  await timed(() => model.predict(x, t)); // compile / first-run costs
  for (let i = 0; i < runs; i++) times.push(await timed(() => model.predict(x, t)));
  tf.dispose([x, t]);
  const params = model.numParams;
  model.dispose();
  const tfjsMs = median(times);
  log(`${layout}: ${params} parameters, tfjs ${tfjsMs.toFixed(0)} ms per forward pass (batch 1)`);
  let pytorch: DiffusersForward['pytorch'];
  try {
    const out = execFileSync(
      python,
      [
        'tools/torch/bench_diffusers.py',
        '--config',
        JSON.stringify(DIFFUSERS_LAYOUTS[layout]),
        '--runs',
        String(runs),
        '--threads',
        '2',
        '--device',
        torchDevice,
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 },
    );
    pytorch = JSON.parse(out.trim().split('\n').pop()!) as { forwardMs: number; torch: string; threads: number };
    log(`${layout}: PyTorch ${pytorch.forwardMs.toFixed(0)} ms`);
  } catch (e) {
    pytorch = { notMeasured: `PyTorch not measured (${(e as Error).message.split('\n')[0]})` };
  }
  const ratio = 'forwardMs' in pytorch ? Number((pytorch.forwardMs / tfjsMs).toPrecision(3)) : undefined;
  return { layout, params, batch: 1, tfjsMs, runs, pytorch, ...(ratio !== undefined ? { ratio } : {}) };
}
