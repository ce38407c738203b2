import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { yieldToEvents } from '../../src/engine/yield';
import { ImageDataset } from '../../src/data/dataset';
import { registerWasmKernels } from '../../src/model/wasm-kernels';
import { presetConfig } from '../../src/training/presets';
import { explainFailure } from '../../src/engine/failures';
import { measureSecondsPer1000Steps } from '../../src/training/estimate';
import { TrainingSession, type RunOptions, type TrainProgress } from '../../src/training/session';
import { DEFAULT_TRAIN_CONFIG } from '../../src/training/trainer';
import type { TrainingCheckpoint } from '../../src/training/checkpoint';
import { shapePixels } from '../fixtures/images';

const diffusion = { numTrainTimesteps: 1000, betaSchedule: 'linear' as const, predictionType: 'epsilon' as const };
const trainConfig = { ...DEFAULT_TRAIN_CONFIG, learningRate: 3e-3, warmupSteps: 5, emaDecay: 0.9 };
const run = (o: Partial<RunOptions> = {}): RunOptions => ({
  batchSize: 8,
  totalSteps: 40,
  flip: false,
  previewEvery: 0,
  checkpointEvery: 10,
  ...o,
});

/** An easy data set: discs in class 'disc', bars in class 'bar', 16×16 grey. */
function easyData(): ImageDataset {
  const ds = new ImageDataset({ size: 16, channels: 1, fit: 'crop' });
  for (let i = 0; i < 4; i++) {
    ds.add({ name: `disc${i}.png`, label: 'disc', pixels: shapePixels(16, 16, 'disc') });
    ds.add({ name: `bar${i}.png`, label: 'bar', pixels: shapePixels(16, 16, 'bar') });
  }
  return ds;
}
const config = () => presetConfig('tiny', 16, 1, 2);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

beforeAll(async () => {
  registerWasmKernels();
  await tf.setBackend('wasm');
});
afterAll(async () => {
  await tf.setBackend('cpu');
});

describe('TrainingSession', () => {
  it('trains: the loss falls on an easy data set, with progress, loss by timestep, previews and checkpoints', async () => {
    const losses: number[] = [];
    const checkpoints: number[] = [];
    const previews: { step: number; images: Float32Array; asked: string[] }[] = [];
    let last: TrainProgress | null = null;
    const options = run({ totalSteps: 60, previewEvery: 30, classNames: ['bar', 'disc'] });
    const s = TrainingSession.create(config(), diffusion, trainConfig, easyData(), options, {
      onStep: (r, p) => {
        losses.push(r.loss);
        last = p;
      },
      onPreview: (f) => previews.push(f),
      onCheckpoint: (c) => void checkpoints.push(c.step),
    });
    expect(await s.run()).toEqual({ kind: 'finished' });
    expect(losses).toHaveLength(60);
    expect(mean(losses.slice(-15))).toBeLessThan(0.6 * mean(losses.slice(0, 5)));
    const p = last!;
    expect(p.step).toBe(60);
    expect(p.imagesPerSecond).toBeGreaterThan(0);
    expect(p.etaSeconds).toBe(0);
    expect(p.bucketLoss).toHaveLength(10);
    expect(p.bucketLoss.filter(Number.isFinite).length).toBeGreaterThanOrEqual(8);
    // noisy timesteps are easy (predict ε ≈ x_t), nearly clean ones hard: the strip shows it
    expect(p.bucketLoss[9]).toBeLessThan(p.bucketLoss[0]);
    expect(previews.map((f) => f.step)).toEqual([30, 60]);
    expect(previews[1].images).toHaveLength(8 * 16 * 16);
    // each preview image names the class it was asked for (the page's rows)
    expect(previews[1].asked).toEqual(['bar', 'disc', 'bar', 'disc', 'bar', 'disc', 'bar', 'disc']);
    expect(previews[1].images.every((v) => Number.isFinite(v) && v >= -1.001 && v <= 1.001)).toBe(true);
    // one at the start (step 0), then every 10 steps once the next step proves it good (and one every
    // KEEP_EVERY_MS besides, which a slow machine may reach within this run)
    expect(checkpoints.filter((step) => step % 10 === 0)).toEqual([0, 10, 20, 30, 40, 50, 60]);
    s.dispose();
  });

  it('pauses, resumes and stops between steps, keeping a checkpoint of the paused step and of the stop', async () => {
    const steps: number[] = [];
    const kept: number[] = [];
    const states: string[] = [];
    const session: TrainingSession = TrainingSession.create(
      config(),
      diffusion,
      trainConfig,
      easyData(),
      run({ totalSteps: 1000, batchSize: 2 }),
      {
        onCheckpoint: (c) => void kept.push(c.step),
        onState: (state, step) => void states.push(`${state} ${step}`),
        onStep: (r) => {
          steps.push(r.step);
          if (r.step === 3) session.pause();
          if (r.step === 6) session.stop();
        },
      },
    );
    const done = session.run();
    await expect.poll(() => session.state).toBe('paused');
    // a running loop would take a step within a few turns of the event loop (it yields once per step)
    for (let i = 0; i < 50; i++) await yieldToEvents();
    expect(steps).toEqual([1, 2, 3]);
    expect(session.state).toBe('paused');
    await expect.poll(() => kept).toEqual([0, 3]);
    // 'paused' is announced once the loop stands still, with the step it kept
    await expect.poll(() => states).toEqual(['running 0', 'paused 3']);
    session.resume();
    expect(await done).toEqual({ kind: 'stopped' });
    expect(steps).toEqual([1, 2, 3, 4, 5, 6]);
    expect(session.state).toBe('idle');
    expect(kept).toEqual([0, 3, 6]);
    expect(states).toEqual(['running 0', 'paused 3', 'running 3', 'idle 6']);
    session.dispose();
  });

  it('a NaN/Inf loss stops training and restores the last good checkpoint', async () => {
    const saved: TrainingCheckpoint[] = [];
    // an infinite learning rate makes the weights infinite in one step, and the next loss NaN
    const s = TrainingSession.create(
      config(),
      diffusion,
      { ...trainConfig, learningRate: Infinity, warmupSteps: 0, gradClipNorm: 0 },
      easyData(),
      run({ totalSteps: 200, checkpointEvery: 1 }),
      {
        onCheckpoint: (c) => void saved.push(c),
      },
    );
    const reason = await s.run();
    expect(reason.kind).toBe('diverged');
    if (reason.kind !== 'diverged') return;
    expect(reason.message).toMatch(/the loss became (NaN|Infinity) at step \d+ .*restored from the checkpoint at step \d+/);
    expect(reason.restoredStep).toBe(saved[saved.length - 1].step);
    expect(s.trainer.step).toBe(reason.restoredStep);
    // the restored weights give a finite loss again
    const x0 = tf.tensor4d(easyData().batch(s.trainer.rng, 4, false, 2).values, [4, 16, 16, 1]);
    const out = s.trainer.model.predict(x0, tf.tensor1d([10, 200, 500, 900], 'int32'), { labels: tf.tensor1d([0, 1, 2, 0], 'int32') });
    expect(Array.from(await out.data()).every(Number.isFinite)).toBe(true);
    tf.dispose([x0, out]);
    s.dispose();
  });

  it('a loss that explodes without a NaN (a learning rate of 1000, the page’s clipping) counts as divergence too, with the same roll-back', async () => {
    const losses: number[] = [];
    const s = TrainingSession.create(
      config(),
      diffusion,
      { ...trainConfig, learningRate: 1000, warmupSteps: 0 },
      easyData(),
      run({ totalSteps: 100, checkpointEvery: 5 }),
      {
        onStep: (r) => void losses.push(r.loss),
      },
    );
    const reason = await s.run();
    expect(reason.kind).toBe('diverged');
    if (reason.kind !== 'diverged') return;
    expect(reason.message).toMatch(
      /^the loss rose from [\d.]+ to [\d.e+]+ by step \d+ \(training diverged: .*restored from the checkpoint at step \d+/,
    );
    // it stopped on a finite loss, long before the 100 steps
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses.length).toBeLessThan(100);
    expect(s.trainer.step).toBe(reason.restoredStep);
    s.dispose();
  });

  it('resuming from a checkpoint continues exactly like not stopping (data order included)', async () => {
    const straight: number[] = [];
    const a = TrainingSession.create(config(), diffusion, trainConfig, easyData(), run({ totalSteps: 8, checkpointEvery: 4 }), {
      onStep: (r) => void straight.push(r.loss),
    });
    await a.run();
    a.dispose();
    let at4: TrainingCheckpoint | null = null;
    const b = TrainingSession.create(config(), diffusion, trainConfig, easyData(), run({ totalSteps: 4, checkpointEvery: 4 }), {
      onCheckpoint: (c) => void (at4 = c),
    });
    await b.run();
    b.dispose();
    expect(at4!.step).toBe(4);
    const resumed: number[] = [];
    const c = await TrainingSession.resume(at4!, easyData(), run({ totalSteps: 8, checkpointEvery: 4 }), {
      onStep: (r) => void resumed.push(r.loss),
    });
    await c.run();
    c.dispose();
    expect(resumed).toEqual(straight.slice(4));
  });

  it('maps data-set classes to the model classes (fine-tuning), unlabelled images to "no label"', async () => {
    const ds = easyData(); // classes ['bar', 'disc']
    ds.add({ name: 'loose.png', label: null, pixels: shapePixels(16, 16, 'disc') });
    const s = TrainingSession.create(
      presetConfig('tiny', 16, 1, 10),
      diffusion,
      { ...trainConfig, labelDropout: 0 },
      ds,
      run({ totalSteps: 3, batchSize: 32, labelMap: [7, 3] }),
    );
    const seen = new Set<number>();
    const real = s.trainer.trainStep.bind(s.trainer);
    s.trainer.trainStep = (x0, labels) => {
      if (Array.isArray(labels)) labels.forEach((l) => seen.add(l));
      return real(x0, labels);
    };
    await s.run();
    expect([...seen].sort((a, b) => a - b)).toEqual([3, 7, 10]);
    s.dispose();
  });

  it('a backend failure ends the run with an explanation and what to do', async () => {
    const s = TrainingSession.create(config(), diffusion, trainConfig, easyData(), run());
    s.trainer.trainStep = () => Promise.reject(new Error("GPUDevice was lost: 'destroyed'"));
    const reason = await s.run();
    expect(reason).toEqual({
      kind: 'error',
      message: expect.stringMatching(/GPU device was lost .*reload the page to resume, or pick another backend/) as string,
    });
    s.dispose();
    expect(explainFailure(new Error('Failed to allocate 512 MB'))).toMatch(
      /ran out of memory .*smaller batch, the tiny model, or another backend/,
    );
    expect(explainFailure(new Error('something else'))).toBe('something else');
  });

  it('turns the timed steps into seconds per 1,000 steps (ms per step), reading the clock around them, and frees what it measured with', async () => {
    const before = tf.memory().numTensors;
    // a clock read before the timed steps and after them: 30 ms for 2 steps
    const reads: number[] = [];
    const clock = () => (reads.push(reads.length), reads.length === 1 ? 1000 : 1030);
    const progress: string[] = [];
    const seconds = await measureSecondsPer1000Steps(config(), diffusion, trainConfig, 4, {
      timedSteps: 2,
      now: clock,
      onStep: (d, t) => void progress.push(`${d}/${t}`),
    });
    expect(reads).toHaveLength(2);
    expect(seconds).toBe(15); // 15 ms per step is 15 s per 1,000 steps
    expect(progress).toEqual(['1/3', '2/3', '3/3']);
    // cancelled after the warm-up step: no figure, nothing left behind
    let steps = 0;
    const cancelled = await measureSecondsPer1000Steps(config(), diffusion, trainConfig, 4, {
      onStep: () => void steps++,
      cancelled: () => steps >= 1,
    });
    expect([cancelled, steps]).toEqual([null, 1]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('does not leak tensors over hundreds of steps with previews and checkpoints', async () => {
    const before = tf.memory().numTensors;
    const counts: number[] = [];
    const s = TrainingSession.create(
      config(),
      diffusion,
      trainConfig,
      easyData(),
      run({ totalSteps: 200, batchSize: 2, previewEvery: 100, checkpointEvery: 25 }),
      {
        onStep: (r) => {
          if (r.step === 20 || r.step === 200) counts.push(tf.memory().numTensors);
        },
      },
    );
    await s.run();
    expect(counts[1]).toBe(counts[0]);
    s.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
