import { MODEL_FILE_EXTENSION, modelFromFiles, modelToFile } from '../model/model-file';
import type { ChannelRequest } from '../protocol';
import type { DeviceGate } from './device-gate';
import type { HeldModel, ModelRegistry, TrainedModels } from './model-registry';
import type { ChannelService, Post } from './service';

/** The 'models' channel: use the trained or the shipped model, export the trained one, import a file. */
export class ModelsService implements ChannelService<'models'> {
  readonly channel = 'models';

  constructor(
    private readonly post: Post<'models'>,
    private readonly registry: ModelRegistry,
    private readonly device: DeviceGate,
    private readonly trained: TrainedModels,
  ) {}

  async handle(request: ChannelRequest<'models'>): Promise<void> {
    await this.device.ready();
    switch (request.type) {
      case 'use':
        return this.registry.activate(request.which === 'trained' ? await this.trained.snapshot() : null);
      case 'export':
        return await this.export(await this.trained.snapshot());
      case 'import':
        return this.registry.activate({ ...(await modelFromFiles(request.files)), source: 'imported' });
    }
  }

  /** Sends `held` to the page as a .ddpm file (and frees it: it is a snapshot made for the export). */
  private async export(held: HeldModel): Promise<void> {
    try {
      const data = await (await modelToFile(held.model, held.diffusion, held.metadata)).arrayBuffer();
      this.post({ channel: 'models', type: 'file', data, name: `${this.trained.exportName(held)}${MODEL_FILE_EXTENSION}` }, [data]);
    } finally {
      held.model.dispose();
    }
  }
}
