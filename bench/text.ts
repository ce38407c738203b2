import { execFileSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { guidedNoise } from '../src/pipeline/sample';
import { TextCondition } from '../src/pipeline/text-condition';
import { asTimestep } from '../src/diffusion/timestep';
import { loadModelFrom } from '../scripts/node-io';
import { median, timed } from './timing';

/** The shipped text-to-image model: its guided step is what every frame of a text run costs. */
const TEXT_MODEL = 'public/models/captioned-digits';
const PROMPT = 'a small 4 in the top right';

export interface TextStep {
  model: string;
  params: number;
  /** One guided step: one network pass at batch 2 (the prompt and the empty prompt), the text encoded once before. */
  tfjsMs: number;
  runs: number;
  pytorch: { stepMs: number; torch: string; threads: number } | { notMeasured: string };
  /** PyTorch's time / tfjs' (≥ 1: tfjs is as fast or faster). */
  ratio?: number;
}

/** The text model's guided step (guidance 3) on the active backend, beside its PyTorch twin (tools/torch/bench_text.py) on 2 threads. */
export async function benchTextStep(
  runs: number,
  log: (s: string) => void,
  python = process.env.BENCH_PYTHON ?? '/usr/bin/python3',
): Promise<TextStep> {
  const { model, diffusion } = await loadModelFrom(TEXT_MODEL);
  const { imageSize: s, inChannels: c } = model.config;
  const condition = new TextCondition(model, [PROMPT]);
  const x = tf.randomNormal([1, s, s, c], 0, 1, 'float32', 1);
  const t = asTimestep(500, diffusion.numTrainTimesteps);
  const step = () => timed(() => guidedNoise(model, x, t, condition, 3));
  await step(); // first-run costs
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await step());
  condition.dispose();
  x.dispose();
  const params = model.numParams;
  const config = model.config;
  model.dispose();
  const tfjsMs = median(times);
  log(`${TEXT_MODEL}: ${params} parameters, tfjs ${tfjsMs.toFixed(1)} ms per guided step`);
  let pytorch: TextStep['pytorch'];
  try {
    const out = execFileSync(
      python,
      ['tools/torch/bench_text.py', '--config', JSON.stringify(config), '--runs', String(runs), '--threads', '2'],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 300_000,
      },
    );
    pytorch = JSON.parse(out.trim().split('\n').pop()!) as { stepMs: number; torch: string; threads: number };
  } catch (e) {
    pytorch = { notMeasured: `${python} tools/torch/bench_text.py failed: ${(e as Error).message.split('\n')[0]}` };
  }
  const ratio = 'stepMs' in pytorch ? Number((pytorch.stepMs / tfjsMs).toPrecision(3)) : undefined;
  log(`text step: ${JSON.stringify({ pytorch, ratio })}`);
  return { model: TEXT_MODEL, params, tfjsMs: Number(tfjsMs.toPrecision(3)), runs, pytorch, ...(ratio !== undefined ? { ratio } : {}) };
}
