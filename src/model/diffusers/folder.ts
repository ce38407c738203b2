/** The weights files a diffusers model folder may hold, preferred first (safetensors is data by design). */
export const WEIGHT_FILES = ['diffusion_pytorch_model.safetensors', 'diffusion_pytorch_model.bin'] as const;

/** Where a diffusers model's files lie, relative to its folder. */
export interface DiffusersLayout {
  config: string;
  weights: string;
  /** scheduler_config.json, when the folder has one. */
  scheduler: string | null;
  /** playground.json beside config.json, when the folder has one (class names, the "no label" class). */
  playground?: string | null;
}

/**
 * The files of a diffusers model among a folder's relative paths: a pipeline folder (model_index.json
 * with unet/ and scheduler/) or a model folder (config.json, diffusion_pytorch_model.*, maybe
 * scheduler_config.json); null when it is neither. Paths may carry the dropped folder's own name first;
 * the shallowest folder that fits wins.
 */
export function diffusersLayout(paths: readonly string[]): DiffusersLayout | null {
  const norm = paths.map((p) => p.replace(/\\/g, '/'));
  const has = (p: string) => norm.includes(p);
  /** The folders (with their trailing slash, '' for the top) that hold a file of this name, shallowest first. */
  const foldersOf = (file: string) =>
    norm
      .filter((p) => p === file || p.endsWith(`/${file}`))
      .map((p) => p.slice(0, -file.length))
      .sort((a, b) => a.length - b.length);
  const model = (dir: string, scheduler: string): DiffusersLayout | null => {
    const weights = WEIGHT_FILES.map((w) => dir + w).find(has);
    return has(`${dir}config.json`) && weights
      ? {
          config: `${dir}config.json`,
          weights,
          scheduler: has(scheduler) ? scheduler : null,
          playground: has(`${dir}playground.json`) ? `${dir}playground.json` : null,
        }
      : null;
  };
  for (const root of foldersOf('model_index.json')) {
    const pipeline = model(`${root}unet/`, `${root}scheduler/scheduler_config.json`);
    if (pipeline) return pipeline;
  }
  for (const dir of foldersOf('config.json')) {
    const folder = model(dir, `${dir}scheduler_config.json`);
    if (folder) return folder;
  }
  return null;
}
