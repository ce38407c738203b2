import * as tf from '@tensorflow/tfjs';
import { GaussianRng } from '../diffusion/random';
import { makeSchedule, type Schedule } from '../diffusion/schedule';
import { explainFailure } from '../engine/failures';
import { yieldToEvents } from '../engine/yield';
import { selectBackend, type BackendName, type BackendReport } from '../engine/backend';
import { DEFAULT_UNET_CONFIG } from '../model/config';
import { loadModel, type DiffusionConfig } from '../model/io';
import { UNet } from '../model/model';
import { sample } from '../pipeline/sample';
import { SAMPLE_BATCHES, type FromEngine, type ImageBatch, type ModelInfo, type RunState, type SampleSettings } from './protocol';
import { stripIndices } from './trajectory';
import { samplingShapes, warmUpSampling } from './warmup';

const FRAME_INTERVAL_MS = 33;
const WARMUP_POST_INTERVAL_MS = 100;

/**
 * The engine behind the worker: owns the backend, the model and the running sampler. Pure logic
 * with a `post` callback, so it can be driven without a Worker too.
 */
export class Engine {
  private model: UNet | null = null;
  private diffusion: DiffusionConfig | null = null;
  /** The model the page opened with, kept while another one is in use so it can come back. */
  private shipped: { model: UNet; diffusion: DiffusionConfig; info: ModelInfo } | null = null;
  private schedule: Schedule | null = null;
  private state: RunState = 'idle';
  private runId = 0;
  private delayMs = 0;
  private stepRequests = 0;
  private forward: { x0: Float32Array; noise: Float32Array; size: number; channels: number; t: number } | null = null;
  /** The GPU kernel warm-up in progress (WebGPU only); tfjs work waits for it (see gpuReady). */
  private warming: Promise<void> = Promise.resolve();
  /** The configurations whose sampling pipelines are compiled already (pipelines depend on shapes, not weights). */
  private readonly warmed = new Set<string>();
  /**
   * True while a training run is live (running or paused). No warm-up then: its programs would meet
   * pipelines still compiling; the training side calls warmUpActive() when the run ends.
   */
  trainingBusy: () => boolean = () => false;

  constructor(private readonly post: (m: FromEngine, transfer?: Transferable[]) => void) {}

  async init(modelUrl: string, preferred?: BackendName): Promise<void> {
    const report: BackendReport = await selectBackend(preferred);
    if (report.backend === 'webgpu') {
      // say so at once, even when idle, rather than failing on the next click
      void (tf.backend() as unknown as { device: GPUDevice }).device.lost.then((info) => this.post({ type: 'error', message: explainFailure(new Error(`GPU device lost: ${info.message}`)) }));
    }
    let info: ModelInfo;
    let warning: string | undefined;
    try {
      const loaded = await loadModel(modelUrl);
      this.model = loaded.model;
      this.diffusion = loaded.diffusion;
      info = { config: loaded.model.config, diffusion: loaded.diffusion, metadata: loaded.metadata, source: 'shipped', numParams: loaded.model.numParams };
    } catch (e) {
      // Until a trained model is present, run end to end on a random one (it draws noise, not digits).
      this.model = UNet.create(DEFAULT_UNET_CONFIG, 0);
      this.diffusion = { numTrainTimesteps: 1000, betaSchedule: 'linear', predictionType: 'epsilon' };
      warning = `The shipped model could not be loaded (${e instanceof Error ? e.message : String(e)}); using an untrained model.`;
      info = { config: this.model.config, diffusion: this.diffusion, metadata: {}, source: 'random', numParams: this.model.numParams };
    }
    this.schedule = makeSchedule(this.diffusion);
    this.shipped = { model: this.model, diffusion: this.diffusion, info };
    this.post({ type: 'ready', report, model: info, warning });
    this.warmUp(this.model, this.diffusion);
  }

  /**
   * Resolves once no GPU kernel warm-up is running (at once off WebGPU). Anything that runs tfjs ops
   * awaits it first: while pipelines compile, a program that needs one of them would throw.
   */
  async gpuReady(): Promise<void> {
    for (let w = this.warming; ; w = this.warming) {
      await w;
      if (w === this.warming) return;
    }
  }

  /**
   * WebGPU: compiles the pipelines of every sampling shape the page offers for this model before a
   * run needs them, posting progress ('warmup' messages). Queued behind any warm-up in progress.
   */
  private warmUp(model: UNet, diffusion: DiffusionConfig): void {
    const key = JSON.stringify([model.config, diffusion.predictionType]);
    if (tf.getBackend() !== 'webgpu' || this.warmed.has(key) || this.trainingBusy()) return;
    this.warmed.add(key);
    this.warming = this.warming.then(async () => {
      if (!model.weights.size) {
        // disposed while it waited (another model was chosen): nothing was compiled for it
        this.warmed.delete(key);
        return this.post({ type: 'warmup', done: 0, total: 0, finished: true });
      }
      let lastPost = -Infinity;
      const progress = (done: number, total: number | null) => {
        const now = performance.now();
        if (total !== null && done > 0 && done < total && now - lastPost < WARMUP_POST_INTERVAL_MS) return;
        lastPost = now;
        this.post({ type: 'warmup', done, total, finished: false });
      };
      let pipelines = 0;
      try {
        pipelines = (await warmUpSampling(model, diffusion, samplingShapes(model, SAMPLE_BATCHES), progress))?.pipelines ?? 0;
      } catch (e) {
        // not fatal: the first run compiles what is missing, as without a warm-up
        this.warmed.delete(key);
        this.post({ type: 'error', message: `preparing the GPU kernels failed: ${explainFailure(e)}` });
      }
      this.post({ type: 'warmup', done: pipelines, total: pipelines, finished: true });
    });
  }

  /** Warms up the panels' model if it is not warm yet (e.g. one chosen while a training run was live). */
  warmUpActive(): void {
    if (this.model && this.diffusion) this.warmUp(this.model, this.diffusion);
  }

  /** The page's own model (shipped, or the untrained stand-in), e.g. to fine-tune it. */
  get shippedModel(): { model: UNet; diffusion: DiffusionConfig; info: ModelInfo } | null {
    return this.shipped;
  }

  /**
   * Makes both panels run on another model (the engine takes ownership), or on the shipped one again
   * with null. Stops a running sample and forgets the forward image, whose size may no longer fit.
   */
  setActiveModel(next: { model: UNet; diffusion: DiffusionConfig; source: ModelInfo['source']; metadata: Record<string, unknown> } | null): void {
    this.stop();
    if (this.model && this.model !== this.shipped?.model) this.model.dispose();
    const target = next ?? { ...this.shipped!, source: this.shipped!.info.source, metadata: this.shipped!.info.metadata };
    this.model = target.model;
    this.diffusion = target.diffusion;
    this.schedule = makeSchedule(target.diffusion);
    this.forward = null;
    const m = target.model;
    this.post({ type: 'model', model: { config: m.config, diffusion: target.diffusion, metadata: target.metadata, source: target.source, numParams: m.numParams } });
    this.warmUp(m, target.diffusion);
  }

  private setState(state: RunState): void {
    this.state = state;
    this.post({ type: 'state', state });
  }

  pause(): void {
    if (this.state === 'running') this.setState('paused');
  }
  resume(): void {
    if (this.state === 'paused') this.setState('running');
  }
  step(): void {
    if (this.state === 'paused') this.stepRequests++;
  }
  stop(): void {
    this.runId++;
    if (this.state !== 'idle') this.setState('idle');
  }
  setSpeed(delayMs: number): void {
    this.delayMs = Math.max(0, delayMs);
  }

  /** Runs the reverse process, posting frames at most every FRAME_INTERVAL_MS plus every strip step. */
  async sample(settings: SampleSettings): Promise<void> {
    const model = this.requireModel();
    const run = ++this.runId;
    const { imageSize: size, inChannels: channels } = model.config;
    const nc = model.config.numClasses;
    if (nc > 0 && settings.label !== null && !(Number.isInteger(settings.label) && settings.label >= 0 && settings.label < nc))
      throw new Error(`class ${settings.label} does not exist: this model has ${nc} classes (0–${nc - 1})`);
    const labels = new Array<number | null>(settings.batch).fill(nc > 0 ? settings.label : null);
    // a run asked for during the GPU warm-up waits for it (it is not lost; Stop cancels it)
    this.setState('running');
    await this.gpuReady();
    if (run !== this.runId) return;
    let init: { sample: tf.Tensor; timestep: number } | undefined;
    if (settings.fromForward && this.forward && this.forward.t >= 0) {
      const xt = this.forwardValues(this.forward.t);
      const one = tf.tensor4d(xt, [1, size, size, channels]);
      init = { sample: tf.tidy(() => tf.tile(one, [settings.batch, 1, 1, 1])), timestep: this.forward.t };
      one.dispose();
    }
    const started = performance.now();
    let lastPost = -Infinity;
    let steps = 0;
    try {
      const gen = sample(model, this.diffusion!, { ...settings, labels, init });
      let keep: Set<number> | null = null;
      for (const s of gen) {
        steps++;
        keep ??= stripIndices(s.total);
        const last = s.index === s.total - 1;
        const now = performance.now();
        const single = this.stepRequests > 0;
        if (keep.has(s.index) || last || single || now - lastPost >= FRAME_INTERVAL_MS) {
          lastPost = now;
          const [xt, x0, eps] = await Promise.all([s.sample.data(), s.predOriginalSample.data(), s.predNoise.data()]);
          const batch = (v: ArrayLike<number>): ImageBatch => ({ values: v as Float32Array, batch: settings.batch, size, channels });
          const frame = { index: s.index, total: s.total, t: s.t, xt: batch(xt), predOriginal: batch(x0), predNoise: batch(eps), keep: keep.has(s.index) };
          this.post({ type: 'frame', frame }, [frame.xt.values.buffer, frame.predOriginal.values.buffer, frame.predNoise.values.buffer]);
        }
        if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
        else await yieldToEvents();
        if (this.stepRequests > 0) this.stepRequests--;
        while (this.state === 'paused' && this.stepRequests === 0 && run === this.runId) await new Promise((r) => setTimeout(r, 20));
        if (run !== this.runId) {
          gen.return();
          return;
        }
      }
      this.post({ type: 'done', elapsedMs: performance.now() - started, steps });
      this.setState('idle');
    } catch (e) {
      // a failed step (e.g. a lost GPU device) ends the run; the page gets the error and its controls back
      if (run === this.runId) this.setState('idle');
      throw e;
    } finally {
      init?.sample.dispose();
    }
  }

  /** Forward process: remember x0 (and draw ε if none yet). */
  setForwardImage(image: ImageBatch): void {
    const model = this.requireModel();
    if (image.size !== model.config.imageSize || image.channels !== model.config.inChannels)
      throw new Error(`the image is ${image.size}×${image.size}×${image.channels}; the model needs ${model.config.imageSize}×${model.config.imageSize}×${model.config.inChannels}`);
    const noise = this.forward?.noise.length === image.values.length ? this.forward.noise : new GaussianRng(0).normalArray(image.values.length);
    this.forward = { x0: image.values, noise, size: image.size, channels: image.channels, t: this.forward?.t ?? -1 };
  }

  setForwardNoise(seed: number): void {
    if (this.forward) this.forward.noise = new GaussianRng(seed).normalArray(this.forward.x0.length);
  }

  /** x_t = √ᾱ_t x0 + √(1−ᾱ_t) ε (eq. 4) with the fixed ε — plain arithmetic on a few thousand values. */
  forwardAt(t: number): void {
    if (!this.forward) return;
    this.forward.t = t;
    const { size, channels } = this.forward;
    const xt = this.forwardValues(t);
    const noise = this.forward.noise.slice();
    this.post({ type: 'forwardFrame', t, xt: { values: xt, batch: 1, size, channels }, noise: { values: noise, batch: 1, size, channels } }, [xt.buffer, noise.buffer]);
  }

  private forwardValues(t: number): Float32Array {
    const { x0, noise } = this.forward!;
    if (t < 0) return x0.slice();
    const ac = this.schedule!.alphasCumprod[t];
    const a = Math.sqrt(ac);
    const b = Math.sqrt(1 - ac);
    return Float32Array.from(x0, (v, i) => a * v + b * noise[i]);
  }

  private requireModel(): UNet {
    if (!this.model) throw new Error('the engine is not initialised yet');
    return this.model;
  }
}
