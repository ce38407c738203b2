import type { FromEngine } from '../protocol';
import { DeviceGate } from './device-gate';
import { Engine } from './engine';
import { KernelWarmup } from './kernel-warmup';
import { MemorisationService } from './memorisation';
import { Meters } from './meter';
import { ModelRegistry } from './model-registry';
import { ModelsService } from './models';
import { SamplingService } from './sampling';
import type { ChannelService } from './service';
import { StartupService } from './startup';
import { TrainingService } from './training';

/**
 * The worker's services, each with what it needs handed to its constructor: the models (the
 * registry), the device (its gate), the meter's classifier, and the start-up. The one place they are
 * wired; each then handles only its own channel.
 */
export function createServices(post: (m: FromEngine, transfer?: Transferable[]) => void): ChannelService[] {
  const device = new DeviceGate();
  const meter = new Meters();
  const models = new ModelRegistry(post);
  new KernelWarmup(post, device, meter, models); // lives on through the listeners it registers
  const startup = new StartupService(post, models, meter);
  const training = new TrainingService(post, models, device, startup.started);
  return [
    startup,
    new SamplingService(post, models, device, meter),
    training,
    new ModelsService(post, models, device, training),
    new MemorisationService(post, models, device, meter),
  ];
}

/** The engine the worker runs: every service, routed by channel. */
export function createEngine(post: (m: FromEngine, transfer?: Transferable[]) => void): Engine {
  return new Engine(post, createServices(post));
}
