import * as tf from '@tensorflow/tfjs';
import { DEFAULT_DIFFUSION } from '../src/diffusion/scheduler';
import type { ModelConfig } from '../src/model/config';
import { UNet } from '../src/model/model';
import { Trainer } from '../src/training/trainer';
import { modelInputs } from './timing';

export interface KernelCount {
  /** 'shipped', or a preset at an image size, e.g. 'tiny 28×28×1'. */
  name: string;
  /** The backend counted on: custom kernels make counts backend-specific. */
  backend: string;
  config: ModelConfig;
  /** Kernels of one forward pass (batch 1), and of one Trainer.trainStep (batch 2: forward, backward, clipping, Adam, EMA). */
  forward: number;
  trainStep: number;
  /** The trainStep's kernels by name, most frequent first. */
  trainStepByKernel: Record<string, number>;
}

/**
 * Counts the kernels the engine runs (tf.profile) for one forward pass and one training step of
 * `config` on the active backend. Counts, not times: they are deterministic, and on a GPU each
 * kernel is a dispatch.
 */
export async function countKernels(name: string, config: ModelConfig): Promise<KernelCount> {
  const model = UNet.create(config, 0);
  const { x, t, labels, labelList } = modelInputs(config, 2);
  // tf.profile also lists the scopes of custom-gradient ops (e.g. 'fusedConv2d__op'), which are not kernels;
  // and it hands back the engine's one profile object, which the next tf.profile overwrites: count at once
  const backend = tf.getBackend();
  const real = (p: { kernels: { name: string }[] }) => p.kernels.filter((k) => tf.getKernel(k.name, backend) !== undefined);
  const forward = real(
    await tf.profile(async () => {
      const y = model.predict(x, t, { labels });
      await y.data();
      y.dispose();
    }),
  ).length;
  const trainer = new Trainer(model, DEFAULT_DIFFUSION);
  const x0 = tf.tidy(() => tf.clipByValue(x, -1, 1));
  const step = () => trainer.trainStep(x0, config.numClasses > 0 ? labelList : undefined);
  await step(); // the first step creates nothing the later ones lack, but keep the count of a steady step
  const train = await tf.profile(async () => {
    await step();
  });
  const byKernel: Record<string, number> = {};
  for (const k of real(train)) byKernel[k.name] = (byKernel[k.name] ?? 0) + 1;
  tf.dispose([x, t, x0, ...(labels ? [labels] : [])]);
  trainer.dispose();
  model.dispose();
  return {
    name,
    backend,
    config,
    forward,
    trainStep: real(train).length,
    trainStepByKernel: Object.fromEntries(Object.entries(byKernel).sort((a, b) => b[1] - a[1])),
  };
}
