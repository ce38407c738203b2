import * as tf from '@tensorflow/tfjs';
import { asTimestep } from '../diffusion/timestep';
import { unetFlops } from '../model/flops';
import { drawsUnlabelled } from '../model/plans';
import { PauseGate } from '../engine/pause-gate';
import { yieldToEvents } from '../engine/yield';
import { SAMPLER_NAMES } from '../pipeline/defaults';
import { sample, type SampleOptions } from '../pipeline/sample';
import { isTextUNet } from '../model/config';
import { START, tokenize } from '../text/tokenizer';
import type { AttentionMaps, ChannelRequest, ImageBatch, SampleFrame, SampleSettings, SampleStart } from '../protocol';
import type { DeviceGate } from './device-gate';
import type { Meters } from './meter';
import type { HeldModel, ModelRegistry } from './model-registry';
import type { ChannelService, Post } from './service';
import { stripIndices } from './trajectory';

/** Models whose network pass costs more than this (FLOPs, batch 1) have it timed before their first run. */
const LARGE_MODEL_FLOPS = 2e9;

/** The page redraws at most this often; steps in between are computed but not sent. */
const FRAME_INTERVAL_MS = 33;

/**
 * How long to wait after a step so steps come every `delayMs` (the speed setting: 100 ms is 10
 * steps/s): the step's own compute time counts towards it; a step slower than that waits not at all.
 */
export const remainingDelay = (delayMs: number, spentMs: number): number => Math.max(0, delayMs - spentMs);

/** A run the service is on: the page's id for it, and whether it was stopped or replaced. */
interface Run {
  id: number;
  cancelled: boolean;
}

/**
 * The 'sampling' channel: the run behind the reverse panel — one run at a time on the active model,
 * paused, single-stepped and stopped through a PauseGate, slowed down on request. The run's id is the
 * page's (its SamplingChannel makes them); every message about a run carries it, so the page can
 * ignore a run it has replaced.
 */
export class SamplingService implements ChannelService<'sampling'> {
  readonly channel = 'sampling';
  /** The current (or last) run; a loop whose run is cancelled ends. */
  private current: Run = { id: 0, cancelled: true };
  private delayMs = 0;
  private readonly gate = new PauseGate((state) => this.post({ channel: 'sampling', type: 'state', run: this.current.id, state }));

  constructor(
    private readonly post: Post<'sampling'>,
    private readonly models: ModelRegistry,
    private readonly device: DeviceGate,
    /** Reads x̂0 as a digit on every frame sent, for the models it fits. */
    private readonly meter: Meters,
    /** Models whose network pass costs at least this many FLOPs are timed before their first run. */
    private readonly largeModelFlops = LARGE_MODEL_FLOPS,
  ) {
    models.onActivate.add((m) => {
      this.stop();
      void this.measure(m);
    });
  }

  /**
   * Times one network pass of a large model (over LARGE_MODEL_FLOPS) at batch 1 on this device, once
   * the device is free, so the page can say what a run will take before the first one; small models
   * are not measured (their runs take seconds).
   */
  private async measure(held: HeldModel): Promise<void> {
    const { model } = held;
    if (unetFlops(model.config).total < this.largeModelFlops) return;
    await this.device.ready();
    if (this.models.active !== held) return;
    const { imageSize: s, inChannels: c, numClasses } = model.config;
    const x = tf.zeros([1, s, s, c]);
    const t = tf.tensor1d([500], 'int32');
    const labels = numClasses > 0 ? tf.tensor1d([0], 'int32') : undefined;
    try {
      const started = performance.now();
      const y = model.predict(x, t, { labels });
      await y.data();
      y.dispose();
      this.post({ channel: 'sampling', type: 'speed', params: model.numParams, msPerStep: performance.now() - started });
    } finally {
      tf.dispose([x, t, ...(labels ? [labels] : [])]);
    }
  }

  async handle(request: ChannelRequest<'sampling'>): Promise<void> {
    switch (request.type) {
      case 'start':
        return await this.start(request.run, request.settings, request.from, request.guidances);
      case 'compare':
        return await this.compare(request.run, request.settings);
      case 'pause':
        return this.gate.pause();
      case 'resume':
        return this.gate.resume();
      case 'step':
        return this.gate.step();
      case 'stop':
        return this.stop();
      case 'speed':
        this.delayMs = Math.max(0, request.delayMs);
    }
  }

  private stop(): void {
    this.current.cancelled = true;
    this.gate.stop();
    this.gate.finish();
  }

  /**
   * Runs the reverse process on the active model, from pure noise or from the forward panel's x_t,
   * posting frames at most every FRAME_INTERVAL_MS plus every strip step and every single step. A
   * run asked for during the GPU warm-up waits for it (it is not lost; stop cancels it).
   */
  private async start(id: number, requested: SampleSettings, from?: SampleStart, guidances?: number[]): Promise<void> {
    const { model, diffusion } = this.models.active;
    if (guidances && !(guidances.length >= 1 && guidances.length <= 16 && guidances.every((g) => g >= 0 && g <= 20)))
      throw new Error(`a guidance strip takes 1 to 16 scales in [0, 20], got [${guidances.join(', ')}]`);
    // a guidance strip: one image per scale, all from the same noise
    const settings = this.checked(guidances ? { ...requested, batch: guidances.length } : requested);
    const { imageSize: size, inChannels: channels } = model.config;
    const labels = this.labels(settings);
    if (from && from.xt.length !== size * size * channels)
      throw new Error(
        `the forward panel's image has ${from.xt.length} values; this model needs ${size}×${size}×${channels} = ${size * size * channels}`,
      );
    const t0 = from ? asTimestep(from.t, diffusion.numTrainTimesteps) : undefined;
    const run = this.begin(id);
    let init: tf.Tensor | undefined;
    try {
      await this.device.ready();
      if (run.cancelled) return;
      if (from) init = tf.tidy(() => tf.tile(tf.tensor4d(from.xt, [1, size, size, channels]), [settings.batch, 1, 1, 1]));
      const meter = this.meter.for(model.config);
      const started = performance.now();
      let lastPost = -Infinity;
      let steps = 0;
      /** Time spent paused, left out of the run's elapsed time. */
      let pausedMs = 0;
      const text = this.textOptions(settings);
      const gen = sample(model, diffusion, {
        ...settings,
        labels,
        ...text,
        attentionMaps: text.prompts !== undefined,
        init: init && { sample: init, timestep: t0! },
        ...(guidances ? { guidance: guidances, sharedNoise: true } : {}),
      });
      let keep: Set<number> | null = null;
      /** When the step being computed began (after the last wait). */
      let stepStart = performance.now();
      for (const s of gen) {
        steps++;
        keep ??= stripIndices(s.total);
        const now = performance.now();
        const last = s.index === s.total - 1;
        if (keep.has(s.index) || last || this.gate.state === 'paused' || now - lastPost >= FRAME_INTERVAL_MS) {
          lastPost = now;
          const [xt, x0, eps, reads, attention, start] = await Promise.all([
            s.sample.data(),
            s.predOriginalSample.data(),
            s.predNoise.data(),
            meter?.read(s.predOriginalSample),
            s.attention && this.attentionMaps(s.attention, this.readWords(settings, s.t)),
            s.start?.sample.data(),
          ]);
          const batch = (v: ArrayLike<number>): ImageBatch => ({ values: v as Float32Array, batch: settings.batch, size, channels });
          const frame: SampleFrame = {
            index: s.index,
            total: s.total,
            t: s.t,
            xt: batch(xt),
            at: s.at,
            ...(start ? { start: { xt: batch(start), at: s.start!.at } } : {}),
            predOriginal: batch(x0),
            predNoise: batch(eps),
            keep: keep.has(s.index),
            ...(reads ? { reads } : {}),
            ...(attention ? { attention } : {}),
          };
          this.post({ channel: 'sampling', type: 'frame', run: id, frame }, [
            frame.xt.values.buffer,
            frame.predOriginal.values.buffer,
            frame.predNoise.values.buffer,
            ...(reads ? [reads.buffer] : []),
            ...(attention ? [attention.maps.buffer] : []),
            ...(start ? [start.buffer] : []),
          ]);
        }
        const wait = remainingDelay(this.delayMs, performance.now() - stepStart);
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        else await yieldToEvents();
        const waitStart = performance.now();
        const go = await this.gate.next();
        pausedMs += performance.now() - waitStart;
        stepStart = performance.now();
        if (!go || run.cancelled) {
          gen.return();
          return;
        }
      }
      this.post({ channel: 'sampling', type: 'done', run: id, elapsedMs: performance.now() - started - pausedMs, steps });
    } finally {
      // a failed step (e.g. a lost GPU device) ends the run too: the page gets the error and its controls back
      init?.dispose();
      if (run === this.current) this.gate.finish();
    }
  }

  /** A text model's prompts for a run of `settings` (one per image, the switch's too); nothing for other models. */
  private textOptions(
    settings: SampleSettings,
  ): Pick<SampleOptions, 'prompts' | 'negativePrompt'> & { promptSwitch: SampleOptions['promptSwitch'] } {
    const { model, diffusion } = this.models.active;
    if (!isTextUNet(model.config)) return { promptSwitch: undefined };
    const all = (prompt: string) => new Array<string>(settings.batch).fill(prompt);
    const change = settings.promptSwitch;
    return {
      prompts: all(settings.prompt ?? ''),
      negativePrompt: settings.negativePrompt ?? '',
      promptSwitch: change ? { prompts: all(change.prompt), at: asTimestep(change.at, diffusion.numTrainTimesteps) } : undefined,
    };
  }

  /** The tokens a text model reads at timestep t (the switch's prompt from its t down): <start>, then the known words. */
  private readWords(settings: SampleSettings, t: number): string[] {
    const c = this.models.active.model.config;
    if (!isTextUNet(c)) return [];
    const prompt = settings.promptSwitch && t <= settings.promptSwitch.at ? settings.promptSwitch.prompt : (settings.prompt ?? '');
    const { ids } = tokenize(prompt, c.text.vocabulary, c.text.maxTokens);
    return [START, ...ids.slice(1).flatMap((id) => (id > 1 ? [c.text.vocabulary[id]] : []))];
  }

  /** The first image's maps for the tokens read ([B, H, W, L] → [H·W·words]). */
  private async attentionMaps(all: tf.Tensor, words: string[]): Promise<AttentionMaps> {
    const [, h, w] = all.shape;
    const first = tf.slice(all, [0, 0, 0, 0], [1, h, w, words.length]);
    const maps = (await first.data()) as Float32Array;
    first.dispose();
    return { words, size: h, maps };
  }

  /** The class of every image of a run (null for an unconditional model), after checking it exists. */
  /**
   * The settings as the active model can take them: a class-conditional model without a "no label"
   * class (diffusers' UNet2DModel) needs a class and takes no guidance (it has no unconditional branch).
   */
  private checked(settings: SampleSettings): SampleSettings {
    const { model } = this.models.active;
    if (drawsUnlabelled(model.config)) return settings;
    if (settings.label === null) throw new Error('this model has no "no label" class: choose a class to draw');
    return { ...settings, guidance: 1 };
  }

  private labels(settings: SampleSettings): (number | null)[] {
    const nc = this.models.active.model.config.numClasses;
    if (nc > 0 && settings.label !== null && !(Number.isInteger(settings.label) && settings.label >= 0 && settings.label < nc))
      throw new Error(`class ${settings.label} does not exist: this model has ${nc} classes (0–${nc - 1})`);
    return new Array<number | null>(settings.batch).fill(nc > 0 ? settings.label : null);
  }

  /** A new run replaces the one in progress. */
  private begin(id: number): Run {
    this.current.cancelled = true;
    this.gate.stop(); // wakes a paused run this one replaces, so it can end
    this.current = { id, cancelled: false };
    this.gate.start();
    return this.current;
  }

  /**
   * Samplers side by side: every sampler the page has, from the same x_T (the same seed) and labels,
   * stepped in turn so they advance together; each posts its frames ('compareFrame') with its own
   * step count and the time its own steps took, and the meter's reading.
   */
  private async compare(id: number, requested: SampleSettings): Promise<void> {
    const settings = this.checked(requested);
    const { model, diffusion } = this.models.active;
    const { imageSize: size, inChannels: channels } = model.config;
    const labels = this.labels(settings);
    const run = this.begin(id);
    const runs = SAMPLER_NAMES.map((sampler) => {
      // the current sampler keeps its step count; the others run at their usual one
      const steps = sampler === settings.sampler ? settings.steps : undefined;
      const gen = sample(model, diffusion, { ...settings, sampler, steps, labels, ...this.textOptions(settings) });
      return { sampler, gen, ms: 0, lastPost: -Infinity, done: false };
    });
    try {
      await this.device.ready();
      if (run.cancelled) return;
      const meter = this.meter.for(model.config);
      const started = performance.now();
      let steps = 0;
      while (runs.some((r) => !r.done)) {
        for (const r of runs.filter((r) => !r.done)) {
          const t0 = performance.now();
          const next = r.gen.next();
          r.ms += performance.now() - t0;
          if (next.done) {
            r.done = true;
            continue;
          }
          steps++;
          const s = next.value;
          const last = s.index === s.total - 1;
          if (last || performance.now() - r.lastPost >= FRAME_INTERVAL_MS * runs.length) {
            r.lastPost = performance.now();
            const [xt, reads] = await Promise.all([s.sample.data() as Promise<Float32Array>, meter?.read(s.predOriginalSample)]);
            const frame = {
              sampler: r.sampler,
              index: s.index,
              total: s.total,
              t: s.t,
              xt: { values: xt, batch: settings.batch, size, channels },
              at: s.at,
              ms: r.ms,
              ...(reads ? { reads } : {}),
            };
            this.post({ channel: 'sampling', type: 'compareFrame', run: id, frame }, [xt.buffer, ...(reads ? [reads.buffer] : [])]);
          }
        }
        await yieldToEvents();
        if (!(await this.gate.next()) || run.cancelled) return;
      }
      this.post({ channel: 'sampling', type: 'done', run: id, elapsedMs: performance.now() - started, steps });
    } finally {
      for (const r of runs) r.gen.return();
      if (run === this.current) this.gate.finish();
    }
  }
}
