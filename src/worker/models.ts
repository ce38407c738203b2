import { exportDiffusers } from '../model/diffusers/export';
import { loadDiffusers } from '../model/diffusers/load';
import { writeZip } from '../model/diffusers/zip';
import { MODEL_FILE_EXTENSION, modelFromFiles, modelToFile } from '../model/model-file';
import type { ChannelRequest } from '../protocol';
import type { DeviceGate } from './device-gate';
import type { HeldModel, ModelRegistry, TrainedModels } from './model-registry';
import { fetchFromHub } from './hub';
import { loadShippedModel } from './shipped-folder';
import type { ChannelService, Post } from './service';

const DOWNLOAD_POST_INTERVAL_MS = 100;

/** The 'models' channel: use the trained model, a shipped one, a file or a hub model; export the trained one. */
export class ModelsService implements ChannelService<'models'> {
  readonly channel = 'models';
  /** The hub download in progress, to cancel. */
  private download: AbortController | null = null;

  constructor(
    private readonly post: Post<'models'>,
    private readonly registry: ModelRegistry,
    private readonly device: DeviceGate,
    private readonly trained: TrainedModels,
  ) {}

  async handle(request: ChannelRequest<'models'>): Promise<void> {
    if (request.type === 'cancelDownload') return this.download?.abort();
    if (request.type === 'hub') return await this.fromHub(request);
    await this.device.ready();
    switch (request.type) {
      case 'use':
        return this.registry.activate(request.which === 'trained' ? await this.trained.snapshot() : null);
      case 'export':
        return await this.export(await this.trained.snapshot(), request.format);
      case 'import':
        return this.registry.activate({ ...(await modelFromFiles(request.files)), source: 'imported' });
      case 'example':
        return this.registry.activate({ ...(await loadShippedModel(request.url)), source: 'example' });
    }
  }

  /** Downloads a diffusers model from the hub (one at a time: a new one cancels the last), then makes it the active model. */
  private async fromHub({ repo, revision, endpoint }: { repo: string; revision: string; endpoint: string }): Promise<void> {
    this.download?.abort();
    const controller = new AbortController();
    this.download = controller;
    let lastPost = -Infinity;
    const progress = (file: string, loaded: number, total: number | null) => {
      const now = performance.now();
      if (loaded > 0 && loaded !== total && now - lastPost < DOWNLOAD_POST_INTERVAL_MS) return;
      lastPost = now;
      this.post({ channel: 'models', type: 'download', repo, file, loaded, total, finished: false });
    };
    try {
      const files = await fetchFromHub({ repo, revision, endpoint }, progress, controller.signal);
      const loaded = await loadDiffusers(files);
      await this.device.ready();
      if (controller.signal.aborted) return loaded.model.dispose();
      this.registry.activate({ ...loaded, source: 'hub' });
    } finally {
      if (this.download === controller) this.download = null;
      this.post({ channel: 'models', type: 'download', repo, file: '', loaded: 0, total: null, finished: true });
    }
  }

  /**
   * Sends `held` to the page as a .ddpm file, or as a diffusers folder in a .zip (config.json,
   * safetensors, scheduler_config.json, playground.json under a folder of the export's name, which
   * diffusers' UNet2DModel.from_pretrained loads once unzipped); then frees it (a snapshot made for the export).
   */
  private async export(held: HeldModel, format: 'ddpm' | 'diffusers'): Promise<void> {
    try {
      const name = this.trained.exportName(held);
      let data: ArrayBuffer;
      if (format === 'ddpm') data = await (await modelToFile(held.model, held.diffusion, held.metadata)).arrayBuffer();
      else {
        const folder = await exportDiffusers(held.model, held.diffusion, held.metadata);
        const zip = writeZip(Object.fromEntries(Object.entries(folder).map(([file, bytes]) => [`${name}/${file}`, bytes])));
        data = zip.buffer as ArrayBuffer;
      }
      this.post({ channel: 'models', type: 'file', data, name: `${name}${format === 'ddpm' ? MODEL_FILE_EXTENSION : '-diffusers.zip'}` }, [
        data,
      ]);
    } finally {
      held.model.dispose();
    }
  }
}
