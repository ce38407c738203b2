import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it } from 'vitest';
import { DEFAULT_UNET_CONFIG } from '../../src/model/config';
import { UNet } from '../../src/model/model';

describe('the U-Net on every Node backend', () => {
  it('gives the same output on cpu and wasm (1e-4 relative)', async () => {
    const config = { ...DEFAULT_UNET_CONFIG, attention: true, downsample: 'conv' as const };
    const run = async (backend: string) => {
      await tf.setBackend(backend);
      const model = UNet.create(config, 7);
      model.weights.get('conv_out.weight')!.assign(tf.randomNormal([3, 3, 24, 1], 0, 0.2, 'float32', 1));
      const x = tf.randomNormal([2, 28, 28, 1], 0, 1, 'float32', 2);
      const y = model.predict(x, tf.tensor1d([5, 800]), { labels: tf.tensor1d([1, 10], 'int32') });
      const v = Array.from(await y.data());
      tf.dispose([x, y]);
      model.dispose();
      return v;
    };
    const cpu = await run('cpu');
    const wasm = await run('wasm');
    await tf.setBackend('cpu');
    const scale = Math.max(...cpu.map(Math.abs));
    expect(scale).toBeGreaterThan(0.1);
    expect(Math.max(...wasm.map((v, i) => Math.abs(v - cpu[i]))) / scale).toBeLessThan(1e-4);
  });
});
