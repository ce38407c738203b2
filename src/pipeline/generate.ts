import type { DiffusionConfig } from '../diffusion/scheduler';
import type { UNet } from '../model/model';
import { sample, type SampleOptions } from './sample';

/**
 * Runs the reverse process to the end for many images, in batches of `batchSize`, and returns each
 * final image's values ([H·W·C] in [−1, 1]). The batch starting at image i uses seed + i. A text
 * model takes `prompts`, one per image (labels then only count the images).
 */
export async function generate(
  model: UNet,
  diffusion: DiffusionConfig,
  labels: (number | null)[],
  options: Omit<SampleOptions, 'batch' | 'labels' | 'init' | 'promptSwitch' | 'attentionMaps'> & {
    batchSize: number;
    onBatch?: (done: number, total: number) => void;
  },
): Promise<Float32Array[]> {
  const images: Float32Array[] = [];
  const per = model.config.imageSize ** 2 * model.config.inChannels;
  for (let start = 0; start < labels.length; start += options.batchSize) {
    const batchLabels = labels.slice(start, start + options.batchSize);
    let last: Float32Array | null = null;
    for (const step of sample(model, diffusion, {
      ...options,
      seed: options.seed + start,
      batch: batchLabels.length,
      labels: batchLabels,
      prompts: options.prompts?.slice(start, start + options.batchSize),
    })) {
      if (step.index === step.total - 1) last = (await step.sample.data()) as Float32Array;
    }
    for (let i = 0; i < batchLabels.length; i++) images.push(last!.slice(i * per, (i + 1) * per));
    options.onBatch?.(images.length, labels.length);
  }
  return images;
}
