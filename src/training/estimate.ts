import * as tf from '@tensorflow/tfjs';
import type { DiffusionConfig } from '../diffusion/scheduler';
import { yieldToEvents } from '../engine/yield';
import { isTextUNet, type ModelConfig } from '../model/config';
import { UNet } from '../model/model';
import { PAD_ID, START_ID } from '../text/tokenizer';
import { Trainer, type TrainConfig } from './trainer';

/** How an estimate runs: its timed steps, its clock, and a way to follow and to cancel it. */
export interface EstimateOptions {
  timedSteps?: number;
  now?: () => number;
  /** After each step (the warm-up one included): steps done of all. */
  onStep?: (done: number, total: number) => void;
  /** Checked before each step; true ends the estimate (it then resolves to null). */
  cancelled?: () => boolean;
}

/**
 * Seconds per 1,000 training steps of a config on this device: one warm-up step (compiles shaders,
 * allocates), then a few timed steps on random images; null when cancelled. Frees everything it made.
 */
export async function measureSecondsPer1000Steps(
  config: ModelConfig,
  diffusion: DiffusionConfig,
  trainConfig: TrainConfig,
  batchSize: number,
  { timedSteps = 3, now = () => performance.now(), onStep, cancelled = () => false }: EstimateOptions = {},
): Promise<number | null> {
  const model = UNet.create(config, 0);
  const trainer = new Trainer(model, diffusion, trainConfig);
  const s = config.imageSize;
  const x0 = tf.randomUniform([batchSize, s, s, config.inChannels], -1, 1);
  // a text model reads all maxTokens tokens whatever the caption: the empty prompt's time is any caption's
  const condition = isTextUNet(config)
    ? {
        tokens: Array.from({ length: batchSize }, () =>
          Array.from({ length: config.text.maxTokens }, (_, i) => (i === 0 ? START_ID : PAD_ID)),
        ),
      }
    : config.numClasses > 0
      ? Array.from({ length: batchSize }, (_, i) => i % config.numClasses)
      : undefined;
  const total = timedSteps + 1;
  try {
    if (cancelled()) return null;
    await trainer.trainStep(x0, condition);
    onStep?.(1, total);
    const start = now();
    for (let i = 0; i < timedSteps; i++) {
      // the step's own awaits let a cancel message in; it takes effect before the next step
      await yieldToEvents();
      if (cancelled()) return null;
      await trainer.trainStep(x0, condition);
      onStep?.(i + 2, total);
    }
    // ms per step = s per 1,000 steps
    return (now() - start) / timedSteps;
  } finally {
    x0.dispose();
    model.dispose();
    trainer.dispose();
  }
}
