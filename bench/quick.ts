/**
 * `npm run bench:quick -- [wasm|webgpu|cpu]`: a quick timing of the shipped architecture (random
 * weights) on one backend — forward pass at batch 1 and 16 (median of 4 after 2 warm-ups; the
 * first, compiling run is reported apart) and Trainer.trainStep at batch 8 (3 timed after 2) — one
 * JSON line. WebGPU runs through Dawn (scripts/node-webgpu.ts): with no GPU, set
 * VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json. Self-contained on purpose (it imports
 * only the model, the trainer and node-webgpu.ts), so it can be copied into an older checkout to
 * measure a "before" the same way.
 */
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_DIFFUSION } from '../src/diffusion/scheduler';
import '@tensorflow/tfjs-backend-wasm';
import { DEFAULT_UNET_CONFIG } from '../src/model/config';
import { UNet } from '../src/model/model';
import { registerWasmKernels } from '../src/model/wasm-kernels';
import { Trainer } from '../src/training/trainer';
import { installNodeWebGPU } from '../scripts/node-webgpu';

export async function main(argv: string[]): Promise<number> {
  const backend = argv[0] ?? 'wasm';
  tf.env().set('PROD', true);
  registerWasmKernels();
  if (backend === 'webgpu') {
    if (!(await installNodeWebGPU())) {
      console.error('error: no WebGPU adapter (VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json for a software one)');
      return 2;
    }
    await import('@tensorflow/tfjs-backend-webgpu');
  }
  if (!(await tf.setBackend(backend))) throw new Error(`the ${backend} backend failed to initialise`);
  const model = UNet.create(DEFAULT_UNET_CONFIG, 0);
  const out: Record<string, unknown> = { backend, commit: process.env.BENCH_COMMIT ?? null };
  for (const b of [1, 16]) {
    const x = tf.randomNormal([b, 28, 28, 1], 0, 1, 'float32', 1);
    const t = tf.fill([b], 500, 'int32');
    const labels = tf.fill<tf.Rank.R1>([b], 3, 'int32');
    const times: number[] = [];
    for (let i = 0; i < 6; i++) {
      const s = performance.now();
      const y = model.predict(x, t, { labels });
      await y.data();
      y.dispose();
      times.push(performance.now() - s);
    }
    const steady = times.slice(2).sort((p, q) => p - q);
    out[`forwardMsBatch${b}`] = Number(((steady[1] + steady[2]) / 2).toFixed(1));
    out[`firstForwardMsBatch${b}`] = Math.round(times[0]);
    tf.dispose([x, t, labels]);
  }
  const trainer = new Trainer(model, DEFAULT_DIFFUSION);
  const x0 = tf.tidy(() => tf.clipByValue(tf.randomNormal([8, 28, 28, 1], 0, 1, 'float32', 2), -1, 1));
  const labels = Array.from({ length: 8 }, (_, i) => i % 10);
  for (let i = 0; i < 2; i++) await trainer.trainStep(x0, labels);
  const s = performance.now();
  for (let i = 0; i < 3; i++) await trainer.trainStep(x0, labels);
  out.trainImagesPerSecBatch8 = Number(((3 * 8) / ((performance.now() - s) / 1000)).toFixed(2));
  console.log(JSON.stringify(out));
  tf.dispose(x0);
  trainer.dispose();
  model.dispose();
  return 0;
}
