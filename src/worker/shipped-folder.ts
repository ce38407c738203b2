import { loadDiffusers, type DiffusersFiles } from '../model/diffusers/load';
import { loadModel, type LoadedModel } from '../model/io';
import { ModelLoadError } from '../model/model-error';

/**
 * A diffusers model folder the page ships (public/models/emoji/): config.json,
 * diffusion_pytorch_model.safetensors, scheduler_config.json and playground.json at `base` (a URL
 * ending in '/'), fetched as they are; the browser's HTTP cache keeps them. `get` is fetch, or a
 * stand-in in tests.
 */
export async function fetchShippedFolder(
  base: string,
  get: (url: string) => Promise<Response> = (url) => fetch(url),
): Promise<DiffusersFiles> {
  const bytes = async (file: string) => {
    let response: Response;
    try {
      response = await get(new URL(file, base).href);
    } catch (e) {
      throw new ModelLoadError(`cannot fetch the shipped model's ${file} (${e instanceof Error ? e.message : String(e)})`);
    }
    if (!response.ok) throw new ModelLoadError(`the shipped model's ${file} is missing (HTTP ${response.status})`);
    return new Uint8Array(await response.arrayBuffer());
  };
  const json = async (file: string) => JSON.parse(new TextDecoder().decode(await bytes(file))) as unknown;
  const weights = 'diffusion_pytorch_model.safetensors';
  const [config, scheduler, playground, data] = await Promise.all([
    json('config.json'),
    json('scheduler_config.json'),
    json('playground.json'),
    bytes(weights),
  ]);
  return { config, scheduler, playground, weights: { name: weights, bytes: data }, source: new URL(base).pathname };
}

/** A model the page ships: a diffusers folder (a URL ending in '/', the emoji) or the playground's model.json (the digits, the captioned digits). */
export async function loadShippedModel(url: string): Promise<LoadedModel> {
  return url.endsWith('/') ? await loadDiffusers(await fetchShippedFolder(url)) : await loadModel(url);
}
