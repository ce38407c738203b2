/**
 * The network's raw output for given inputs — how a person checks a port against PyTorch:
 *   npm run predict -- --model DIR --x X.npy --t T.npy [--label L.npy] --out EPS.npy [--backend wasm|cpu|webgpu]
 * DIR: a diffusers UNet2DModel (or pipeline) folder, or the playground's model.json + weights.bin.
 * X: float32 (or float64) NCHW images, PyTorch's layout; T and L: one integer per image (int32 or
 * int64). EPS: float32 NCHW, the same shape as the model's output.
 */
import { readFile, writeFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs';
import { parseCliArgs, UsageError } from './args';
import { NODE_BACKENDS, useCliBackend, type NodeBackendName } from './node-backend';
import { loadModelFrom } from './node-io';
import { NpyError, readNpy, writeNpy } from './npy';

const USAGE = 'usage: npm run predict -- --model DIR --x X.npy --t T.npy [--label L.npy] --out EPS.npy [--backend wasm|cpu|webgpu]';

export async function main(argv: string[]): Promise<number> {
  const a = parseCliArgs(
    argv,
    {
      model: { kind: 'string' },
      x: { kind: 'string' },
      t: { kind: 'string' },
      label: { kind: 'string' },
      out: { kind: 'string' },
      backend: { kind: 'string', choices: [...NODE_BACKENDS] },
    },
    { model: '', x: '', t: '', label: '', out: '', backend: 'wasm' },
    USAGE,
    (args) => {
      for (const k of ['model', 'x', 't', 'out'] as const) if (args[k] === '') throw new UsageError(`--${k} is required`);
    },
  );
  if (a === 'help') return 0;
  if (!a) return 2;
  if ((await useCliBackend(a.backend as NodeBackendName)) === null) return 2;
  const { model } = await loadModelFrom(String(a.model));
  let x, t, label;
  try {
    x = readNpy(new Uint8Array(await readFile(String(a.x))), '--x');
    t = readNpy(new Uint8Array(await readFile(String(a.t))), '--t');
    label = a.label ? readNpy(new Uint8Array(await readFile(String(a.label))), '--label') : null;
  } catch (e) {
    if (e instanceof NpyError || (e as NodeJS.ErrnoException).code === 'ENOENT') {
      console.error(`error: ${(e as Error).message}`);
      return 2;
    }
    throw e;
  }
  const { imageSize: s, inChannels: c } = model.config;
  const [b] = x.shape;
  if (x.shape.length !== 4 || x.shape[1] !== c || x.shape[2] !== s || x.shape[3] !== s) {
    console.error(`error: --x is [${x.shape.join(', ')}]; this model takes [B, ${c}, ${s}, ${s}] (NCHW)`);
    return 2;
  }
  const ints = (n: typeof t, what: string) => {
    if (n.dtype !== 'i4' && n.dtype !== 'i8') throw new UsageError(`${what} must hold integers (int32 or int64), not ${n.dtype}`);
    if (n.values.length !== b) throw new UsageError(`${what} has ${n.values.length} values; --x has ${b} images`);
    return Int32Array.from(n.values);
  };
  let ts, labels;
  try {
    ts = ints(t, '--t');
    labels = label ? ints(label, '--label') : null;
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    return 2;
  }
  const y = tf.tidy(() => {
    const nhwc = tf.transpose(tf.tensor4d(Float32Array.from(x.values), x.shape as [number, number, number, number]), [0, 2, 3, 1]);
    const out = model.predict(nhwc, tf.tensor1d(ts, 'int32'), labels ? { labels: tf.tensor1d(labels, 'int32') } : {});
    return tf.transpose(out, [0, 3, 1, 2]); // back to NCHW
  });
  const values = (await y.data()) as Float32Array;
  await writeFile(String(a.out), writeNpy(values, y.shape));
  console.error(`wrote ${String(a.out)}: [${y.shape.join(', ')}]`);
  y.dispose();
  model.dispose();
  return 0;
}
