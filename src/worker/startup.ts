import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../engine/backend';
import { explainFailure } from '../engine/failures';
import type { ChannelRequest } from '../protocol';
import type { Meters } from './meter';
import type { ModelRegistry } from './model-registry';
import type { ChannelService, Post } from './service';

/**
 * The 'engine' channel: start-up. Picks the backend, watches a WebGPU device for loss, tells the
 * meters where their classifiers are, loads the shipped model and says 'ready'. `started` resolves then,
 * for services with start-up work of their own.
 */
export class StartupService implements ChannelService<'engine'> {
  readonly channel = 'engine';
  private resolveStarted!: () => void;
  /** Resolves once the engine said 'ready' (the backend and the shipped model are there). */
  readonly started = new Promise<void>((resolve) => (this.resolveStarted = resolve));

  constructor(
    private readonly post: Post<'engine'>,
    private readonly models: ModelRegistry,
    private readonly meter: Meters,
  ) {}

  async handle({
    modelUrl,
    backend,
    classifierUrl,
    emojiClassifierUrl,
    trainDigitsUrl,
    colourPriorUrl,
  }: ChannelRequest<'engine'>): Promise<void> {
    const report = await selectBackend(backend);
    if (report.backend === 'webgpu') {
      // say so at once, even when idle, rather than failing on the next click
      void (tf.backend() as unknown as { device: GPUDevice }).device.lost.then((info) =>
        this.post({ channel: 'engine', type: 'error', message: explainFailure(new Error(`GPU device lost: ${info.message}`)) }),
      );
    }
    // the meter's classifier (400 kB) loads alongside the shipped model; the GPU warm-up waits for it
    if (classifierUrl) this.meter.digits.locate(classifierUrl);
    if (emojiClassifierUrl) this.meter.emoji.locate(emojiClassifierUrl);
    if (colourPriorUrl) this.models.locateColourPrior(colourPriorUrl);
    const warning = await this.models.loadShipped(modelUrl, trainDigitsUrl);
    this.post({ channel: 'engine', type: 'ready', report, warning });
    this.resolveStarted();
  }
}
