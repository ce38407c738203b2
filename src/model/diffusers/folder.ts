/** The weights files a diffusers model folder may hold, preferred first (safetensors is data by design). */
export const WEIGHT_FILES = ['diffusion_pytorch_model.safetensors', 'diffusion_pytorch_model.bin'] as const;

/** Where a diffusers model's files lie, relative to its folder. */
export interface DiffusersLayout {
  config: string;
  weights: string;
  /** scheduler_config.json, when the folder has one. */
  scheduler: string | null;
}

/**
 * The files of a diffusers model among a folder's relative paths: a model folder (config.json,
 * diffusion_pytorch_model.*, maybe scheduler_config.json) or a pipeline folder (model_index.json with
 * unet/ and scheduler/); null when it is neither. Paths may carry the dropped folder's own name first.
 */
export function diffusersLayout(paths: readonly string[]): DiffusersLayout | null {
  const norm = paths.map((p) => p.replace(/\\/g, '/'));
  // the folder the files are in: the shortest prefix that holds a config.json
  const find = (dir: string, file: string) => norm.find((p) => p === `${dir}${file}` || p.endsWith(`/${dir}${file}`)) ?? null;
  for (const dir of ['', 'unet/']) {
    const config = find(dir, 'config.json');
    const weights = WEIGHT_FILES.map((w) => find(dir, w)).find((p) => p !== null) ?? null;
    if (!config || !weights) continue;
    const base = config.slice(0, -'config.json'.length);
    if (!weights.startsWith(base)) continue;
    const root = dir ? base.slice(0, -dir.length) : base;
    const scheduler = norm.find((p) => p === `${root}scheduler/scheduler_config.json` || p === `${base}scheduler_config.json`) ?? null;
    return { config, weights, scheduler };
  }
  return null;
}
