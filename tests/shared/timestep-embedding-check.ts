/**
 * The timestep-embedding op on the active backend against its closed form in float64:
 * sin and cos of the float32 argument t·f_i (as PyTorch forms it), for t over the whole range of a
 * 1000-step schedule, where GPU sin/cos are least accurate. Used by the Node and the browser tests.
 */
import * as tf from '@tensorflow/tfjs';
import { embeddingFrequencies, timestepEmbedding } from '../../src/model/kernels/timestep-embedding';

export interface EmbeddingCheck {
  backend: string;
  /** Max |kernel − sin/cos(fround(t·f))| over every t in 0…999 and every frequency. */
  maxError: number;
  /** Kernels one call ran (1 where the backend has the kernel). */
  kernels: number;
  leakedTensors: number;
}

export async function checkTimestepEmbedding(dim = 24): Promise<EmbeddingCheck> {
  const before = tf.memory().numTensors;
  const ts = Array.from({ length: 1000 }, (_, i) => i);
  const t = tf.tensor1d(ts, 'int32');
  const e = timestepEmbedding(t, dim);
  const got = await e.data();
  const f = embeddingFrequencies(dim);
  const half = dim / 2;
  let maxError = 0;
  for (const b of ts)
    for (let i = 0; i < half; i++) {
      const a = Math.fround(b * f[i]);
      maxError = Math.max(maxError, Math.abs(got[b * dim + i] - Math.sin(a)), Math.abs(got[b * dim + half + i] - Math.cos(a)));
    }
  const backend = tf.getBackend();
  const profile = await tf.profile(async () => {
    const y = timestepEmbedding(t, dim);
    await y.data();
    y.dispose();
  });
  tf.dispose([t, e]);
  return {
    backend,
    maxError,
    kernels: profile.kernels.filter((k) => tf.getKernel(k.name, backend) !== undefined).length,
    leakedTensors: tf.memory().numTensors - before,
  };
}
