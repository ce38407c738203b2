import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { GaussianRng, makeSchedule } from '../../src/diffusion';
import { DEFAULT_UNET_CONFIG, type UNetConfig } from '../../src/model/config';
import { UNet } from '../../src/model/model';
import { guidedNoise, sample } from '../../src/pipeline/sample';
import { at, expectClose, expectNoLeak, values } from './helpers';

const config: UNetConfig = { ...DEFAULT_UNET_CONFIG, imageSize: 16, baseChannels: 8, channelMults: [1, 2], groups: 4, numClasses: 3 };
// T = 100 keeps the full DDPM runs short on the CPU backend; the loop is the same for any T.
const diffusion = { numTrainTimesteps: 100, betaSchedule: 'linear' as const, predictionType: 'epsilon' as const };

function liveModel(): UNet {
  const m = UNet.create(config, 2);
  m.weights.get('conv_out.weight')!.assign(tf.randomNormal([3, 3, 8, 1], 0, 0.2, 'float32', 4));
  return m;
}

async function finalSample(model: UNet, seed: number, extra: Partial<Parameters<typeof sample>[2]> = {}) {
  let last: Float32Array | null = null;
  let count = 0;
  for (const step of sample(model, diffusion, { sampler: 'ddim', steps: 5, batch: 2, labels: [0, 2], guidance: 2, seed, ...extra })) {
    last = await values(step.sample);
    count++;
  }
  return { last: last!, count };
}

/**
 * A stand-in network that knows the answer: for a fixed clean image x0 it returns the exact noise
 * in x_t, ε = (x_t − √ᾱ_t x0)/√(1 − ᾱ_t) (eq. 4 solved for ε). It records the timesteps and labels it is asked about.
 */
function oracle(x0: number[], calls: { t: number; labels: number[] }[]): UNet {
  const { alphasCumprod: ac } = makeSchedule(diffusion);
  const cfg: UNetConfig = { ...config, imageSize: 2, numClasses: 3 };
  return {
    config: cfg,
    predict: (x: tf.Tensor, ts: tf.Tensor1D, options?: { labels?: tf.Tensor1D }) => {
      const t = ts.arraySync()[0];
      calls.push({ t, labels: options?.labels?.arraySync() ?? [] });
      return tf.tidy(() => tf.div(tf.sub(x, tf.mul(Math.sqrt(ac[t]), tf.tensor(x0, x.shape).tile([1, 1, 1, 1]))), Math.sqrt(1 - ac[t])));
    },
  } as unknown as UNet;
}

describe('sampling pipeline', () => {
  // x_t on the noising path of x0 with the run's first noise ε: √ᾱ_t x0 + √(1 − ᾱ_t) ε
  const x0 = [0.5, -0.25, 0.75, -1];
  const onPath = (eps: Float32Array, t: number) => {
    const ac = t < 0 ? 1 : makeSchedule(diffusion).alphasCumprod[t];
    return Array.from(eps, (e, i) => Math.sqrt(ac) * x0[i] + Math.sqrt(1 - ac) * e);
  };

  it('DPM-Solver++ and DDIM (η = 0) with an exact noise predictor stay on the path of x0 and end on it; the model sees each timestep and label', async () => {
    const xT = await values(new GaussianRng(4).randn([1, 2, 2, 1])); // the run's x_T (seed 4)
    const ac = makeSchedule(diffusion).alphasCumprod;
    for (const [sampler, expectedTimesteps] of [
      ['ddim', [80, 60, 40, 20, 0]],
      ['dpm-solver++', [99, 79, 59, 40, 20]],
    ] as const) {
      // the noise that puts x_T on x0's path at the run's first timestep
      const t0 = expectedTimesteps[0];
      const eps = Float32Array.from(xT, (x, i) => (x - Math.sqrt(ac[t0]) * x0[i]) / Math.sqrt(1 - ac[t0]));
      const calls: { t: number; labels: number[] }[] = [];
      const model = oracle(x0, calls);
      const seen: number[] = [];
      let last: Float32Array | null = null;
      for (const step of sample(model, diffusion, { sampler, steps: 5, batch: 1, labels: [2], seed: 4 })) {
        seen.push(step.t);
        last = await values(step.sample);
        const next = expectedTimesteps[step.index + 1] ?? -1;
        // DDIM lands on the next timestep of the path; DPM-Solver++ too (its first-order and 2M steps are exact for an exact x̂0)
        expectClose(last, onPath(eps, next), 2e-5);
        expectClose(await values(step.predOriginalSample), x0, 2e-5);
      }
      expect(seen).toEqual(expectedTimesteps);
      expect(calls.map((c) => c.t)).toEqual(expectedTimesteps);
      expect(calls.every((c) => c.labels.length === 1 && c.labels[0] === 2)).toBe(true);
      expectClose(last!, x0, 2e-5);
    }
  });

  it('DDPM with an exact noise predictor ends exactly on x0 (its last step, t = 0, is the posterior mean with x̂0 = x0)', async () => {
    const calls: { t: number; labels: number[] }[] = [];
    let last: Float32Array | null = null;
    let count = 0;
    for (const step of sample(oracle(x0, calls), diffusion, { sampler: 'ddpm', batch: 1, seed: 9 })) {
      count++;
      if (step.index === step.total - 1) last = await values(step.sample);
    }
    expect(count).toBe(100);
    expect(calls.map((c) => c.t)).toEqual(Array.from({ length: 100 }, (_, i) => 99 - i));
    expect(calls[0].labels).toEqual([3]); // no label given: the "no label" class of a 3-class model
    expectClose(last!, x0, 1e-5);
  });

  it('the same seed gives identical pixels; another seed different ones', async () => {
    const model = liveModel();
    const a = await finalSample(model, 1, { sampler: 'ddpm', batch: 1, guidance: 1 });
    const b = await finalSample(model, 1, { sampler: 'ddpm', batch: 1, guidance: 1 });
    const c = await finalSample(model, 2, { sampler: 'ddpm', batch: 1, guidance: 1 });
    expect(a.count).toBe(100);
    expect(Array.from(a.last)).toEqual(Array.from(b.last));
    expect(Array.from(a.last)).not.toEqual(Array.from(c.last));
    model.dispose();
  });

  it('classifier-free guidance: ε_u + s(ε_c − ε_u); s = 1 is plain conditional; s = 0 unconditional', async () => {
    const model = liveModel();
    const x = tf.randomNormal([2, 16, 16, 1], 0, 1, 'float32', 5);
    const ts = tf.fill<tf.Rank.R1>([2], 30);
    const cond = await values(model.predict(x, ts, { labels: tf.tensor1d([1, 2], 'int32') }));
    const uncond = await values(model.predict(x, ts, { labels: tf.tensor1d([3, 3], 'int32') }));
    const guided = await values(guidedNoise(model, x, at(30), [1, 2], 3));
    expectClose(
      guided,
      Array.from(cond, (c, i) => uncond[i] + 3 * (c - uncond[i])),
      1e-5,
    );
    expectClose(await values(guidedNoise(model, x, at(30), [1, 2], 1)), cond, 1e-6);
    expectClose(await values(guidedNoise(model, x, at(30), [1, 2], 0)), uncond, 1e-5);
    expectClose(await values(guidedNoise(model, x, at(30), [null, null], 4)), uncond, 1e-6);
    model.dispose();
  });

  it('"denoise from here" starts at the given x_t and visits only t ≤ start', () => {
    const model = liveModel();
    const init = tf.randomNormal([1, 16, 16, 1], 0, 1, 'float32', 8);
    const seen: number[] = [];
    for (const step of sample(model, diffusion, { sampler: 'ddpm', batch: 1, seed: 0, init: { sample: init, timestep: at(9) } }))
      seen.push(step.t);
    expect(seen).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    expect(init.isDisposed).toBe(false);
    init.dispose();
    model.dispose();
  });

  it('each step names the timestep its sample is at (the next one visited; null for the clean image) and the first yields the image the run started from', async () => {
    const model = liveModel();
    const init = tf.randomNormal([1, 16, 16, 1], 0, 1, 'float32', 8);
    const ats: (number | null)[] = [];
    const starts: ({ values: Float32Array; at: number } | undefined)[] = [];
    for (const step of sample(model, diffusion, {
      sampler: 'ddim',
      steps: 5,
      batch: 1,
      seed: 0,
      init: { sample: init, timestep: at(50) },
    })) {
      ats.push(step.at);
      starts.push(step.start && { values: await values(step.start.sample), at: step.start.at });
    }
    // DDIM 5 of 100 visits 80, 60, 40, 20, 0: from 50 on, 40, 20 and 0, then the clean image
    expect(ats).toEqual([20, 0, null]);
    expect(starts.slice(1)).toEqual([undefined, undefined]);
    // the run starts from `init` at its own timestep (not the first one it visits)
    expect(starts[0]!.at).toBe(50);
    expectClose(starts[0]!.values, await values(init), 0);
    // from pure noise the start is x_T: the seed's first draw
    const run = sample(model, diffusion, { sampler: 'ddpm', batch: 1, seed: 3 });
    const xT = new GaussianRng(3).randn([1, 16, 16, 1]);
    const first = run.next().value!;
    expect(first.start!.at).toBe(first.t);
    expectClose(await values(first.start!.sample), await values(xT), 0);
    run.return();
    tf.dispose([xT, init]);
    model.dispose();
  });

  it('a guidance strip (one s per image, shared noise) gives each image exactly the single run at its s with the same seed', async () => {
    const model = liveModel();
    const scales = [0, 1, 3];
    for (const sampler of ['ddim', 'ddpm'] as const) {
      const opts = { sampler, steps: 5, seed: 9 } as const;
      let strip: Float32Array | null = null;
      for (const s of sample(model, diffusion, { ...opts, batch: 3, labels: [2, 2, 2], guidance: scales, sharedNoise: true }))
        if (s.index === s.total - 1) strip = await values(s.sample);
      const per = 16 * 16;
      for (const [i, g] of scales.entries()) {
        let single: Float32Array | null = null;
        for (const s of sample(model, diffusion, { ...opts, batch: 1, labels: [2], guidance: g }))
          if (s.index === s.total - 1) single = await values(s.sample);
        expectClose(strip!.subarray(i * per, (i + 1) * per), single!, 2e-5);
      }
      // and the scales do make a difference
      expect(Math.max(...strip!.subarray(0, per).map((v, j) => Math.abs(v - strip![2 * per + j])))).toBeGreaterThan(1e-3);
    }
    model.dispose();
  });

  it('frees every tensor over a full DDPM run, and when stopped early', async () => {
    const model = liveModel();
    await expectNoLeak(async () => {
      for (const step of sample(model, diffusion, { sampler: 'ddpm', batch: 1, labels: [1], guidance: 2, seed: 3 })) {
        if (step.index % 250 === 0) await step.predOriginalSample.data();
      }
      for (const sampler of ['ddim', 'dpm-solver++'] as const) {
        for (const step of sample(model, diffusion, { sampler, steps: 20, batch: 1, seed: 3 })) {
          if (step.index === 3) break;
        }
      }
    });
    model.dispose();
  });
});
