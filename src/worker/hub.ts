import { WEIGHT_FILES, type DiffusersLayout } from '../model/diffusers/folder';
import type { DiffusersFiles } from '../model/diffusers/load';
import { ModelLoadError } from '../model/model-error';

/** The Hugging Face Hub; a setting (a test server, a mirror) can stand in for it. */
export const HUB_ENDPOINT = 'https://huggingface.co';
/** Weights larger than this are refused before they are downloaded: a browser tab cannot hold them. */
export const MAX_WEIGHT_BYTES = 2 * 1024 ** 3;
const CACHE = 'ddpm-hub-v1';
const LAYOUT_FILE = '.ddpm-layout.json';

/** owner/name, as the hub spells repo ids. */
const REPO_ID = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;

export interface HubRequest {
  repo: string;
  revision: string;
  endpoint: string;
}

export type DownloadProgress = (file: string, done: number, total: number | null) => void;

/**
 * A diffusers model from the Hugging Face Hub (or a server with its URL layout:
 * `{endpoint}/{repo}/resolve/{revision}/{path}`): a pipeline folder (model_index.json with unet/ and
 * scheduler/) or a model folder (config.json + weights [+ scheduler_config.json]); safetensors
 * preferred. Every file goes through Cache Storage, with the folder's layout, so a second load asks
 * the network nothing. Failures say what happened: offline, repo not found, not a diffusers model, a
 * download cut short, weights too large.
 */
export async function fetchFromHub(request: HubRequest, progress: DownloadProgress, signal: AbortSignal): Promise<DiffusersFiles> {
  const repo = request.repo.trim();
  if (!REPO_ID.test(repo))
    throw new ModelLoadError(`'${repo}' is not a repo id: the hub names models owner/name, e.g. google/ddpm-cifar10-32`);
  const revision = request.revision.trim() || 'main';
  const base = `${request.endpoint.replace(/\/+$/, '')}/${repo}/resolve/${encodeURIComponent(revision)}/`;
  const cache = typeof caches === 'undefined' ? null : await caches.open(CACHE).catch(() => null);
  // each file once per load (the cache keeps them across loads where there is one)
  const fetched = new Map<string, Promise<Uint8Array | null>>();
  const get = (path: string, optional = false) => {
    let bytes = fetched.get(path);
    if (!bytes) {
      bytes = download(base + path, path, { cache, progress, signal, optional, repo });
      fetched.set(path, bytes);
    }
    return bytes;
  };
  let layout: DiffusersLayout;
  const cachedLayout = await cache?.match(base + LAYOUT_FILE);
  if (cachedLayout) layout = (await cachedLayout.json()) as DiffusersLayout;
  else {
    // a pipeline folder, else a model folder; the weights: safetensors if the repo has them
    const index = await get('model_index.json', true);
    const dir = index ? 'unet/' : '';
    const config = `${dir}config.json`;
    const configBytes = await get(config, true);
    if (!configBytes)
      throw new ModelLoadError(
        index
          ? `${repo} is a diffusers pipeline without a unet/ folder: not a UNet2DModel pipeline`
          : `${repo} was not found at ${request.endpoint}: no such public repo (or revision), or not a diffusers model (no config.json)`,
      );
    let weights: string | null = null;
    for (const w of WEIGHT_FILES) if (!weights && (await probe(base + dir + w, signal, cache))) weights = dir + w;
    if (!weights) throw new ModelLoadError(`${repo} has no ${WEIGHT_FILES.join(' or ')} in ${dir || 'its root'}`);
    const scheduler = index ? 'scheduler/scheduler_config.json' : 'scheduler_config.json';
    const playground = `${dir}playground.json`;
    layout = {
      config,
      weights,
      scheduler: (await get(scheduler, true)) ? scheduler : null,
      playground: (await get(playground, true)) ? playground : null,
    };
  }
  const json = async (path: string) => JSON.parse(new TextDecoder().decode((await get(path))!)) as unknown;
  const files: DiffusersFiles = {
    config: await json(layout.config),
    weights: { name: layout.weights, bytes: (await get(layout.weights))! },
    ...(layout.scheduler ? { scheduler: await json(layout.scheduler) } : {}),
    ...(layout.playground ? { playground: await json(layout.playground) } : {}),
    source: `${repo}${revision === 'main' ? '' : `@${revision}`}`,
  };
  await cache?.put(base + LAYOUT_FILE, new Response(JSON.stringify(layout)));
  return files;
}

interface DownloadOptions {
  cache: Cache | null;
  progress: DownloadProgress;
  signal: AbortSignal;
  /** A missing file is null, not an error. */
  optional: boolean;
  repo: string;
}

/** One file: from the cache, else from the network (streamed, with progress), then cached. */
async function download(url: string, path: string, o: DownloadOptions): Promise<Uint8Array | null> {
  const cached = await o.cache?.match(url);
  if (cached) return new Uint8Array(await cached.arrayBuffer());
  const response = await request(url, o.signal);
  if (response.status === 404 || response.status === 401) {
    if (o.optional) return null;
    throw new ModelLoadError(`${o.repo} has no ${path} (HTTP ${response.status}): is the repo id right, and the repo public?`);
  }
  if (!response.ok) throw new ModelLoadError(`the hub answered HTTP ${response.status} for ${path}`);
  const length = Number(response.headers.get('content-length') ?? NaN);
  const total = Number.isFinite(length) ? length : null;
  if (total !== null && total > MAX_WEIGHT_BYTES)
    throw new ModelLoadError(
      `${path} is ${(total / 1024 ** 3).toFixed(1)} GB: too large for this device's memory (the limit is ${MAX_WEIGHT_BYTES / 1024 ** 3} GB)`,
    );
  const bytes = await readAll(response, path, total, o);
  if (o.cache) await o.cache.put(url, new Response(bytes.slice(), { headers: { 'content-type': 'application/octet-stream' } }));
  return bytes;
}

/** Whether a file exists (HEAD), from the cache when it is there. */
async function probe(url: string, signal: AbortSignal, cache: Cache | null): Promise<boolean> {
  if (await cache?.match(url)) return true;
  const response = await request(url, signal, 'HEAD');
  return response.ok;
}

async function request(url: string, signal: AbortSignal, method = 'GET'): Promise<Response> {
  try {
    return await fetch(url, { method, signal, mode: 'cors', credentials: 'omit' });
  } catch (e) {
    if (signal.aborted) throw new ModelLoadError('the download was cancelled');
    throw new ModelLoadError(
      `cannot reach ${new URL(url).origin} (${e instanceof Error ? e.message : String(e)}): offline, or the hub address is wrong?`,
    );
  }
}

async function readAll(response: Response, path: string, total: number | null, o: DownloadOptions): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let done = 0;
  const reader = response.body?.getReader();
  if (!reader) return new Uint8Array(await response.arrayBuffer());
  o.progress(path, 0, total);
  try {
    for (;;) {
      const { value, done: finished } = await reader.read();
      if (finished) break;
      chunks.push(value);
      done += value.length;
      if (total !== null && done > total) throw new ModelLoadError(`${path} is longer than the ${total} bytes the hub announced`);
      o.progress(path, done, total);
    }
  } catch (e) {
    if (o.signal.aborted) throw new ModelLoadError('the download was cancelled');
    if (e instanceof ModelLoadError) throw e;
    throw new ModelLoadError(`the download of ${path} broke off after ${mb(done)}${total !== null ? ` of ${mb(total)}` : ''}: try again`);
  }
  if (total !== null && done !== total)
    throw new ModelLoadError(`the download of ${path} stopped at ${mb(done)} of ${mb(total)}: try again`);
  const out = new Uint8Array(done);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

const mb = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(1)} MB`;
