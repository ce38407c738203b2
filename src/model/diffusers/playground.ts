import { ModelLoadError } from '../model-error';
import { isUNet2D, type ModelConfig } from '../config';
import type { UNet2DConfig } from '../unet2d-config';
import { parseSamplingHint, type SamplingHint } from '../metadata';

/**
 * playground.json: what a diffusers folder cannot say and the page needs — the names of a
 * class-conditional model's classes, which class-embedding row means "no label" (a model trained
 * with label dropout, for classifier-free guidance; diffusers has no such notion and ignores the
 * file), and optionally the sampling settings measured best for it. tools/torch/train_emoji.py and
 * exportDiffusers write it beside config.json.
 */
export interface PlaygroundFile {
  classes: string[];
  /** The last class-embedding row, or null: every row is a class. */
  noLabelClass: number | null;
  /** The settings the page opens the model on (absent: the page's own). */
  sampling?: SamplingHint;
}

/** Checks playground.json against the model's config.json; a file that does not fit it is refused, saying why. */
export function parsePlaygroundFile(raw: unknown, config: UNet2DConfig): PlaygroundFile {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ModelLoadError('playground.json is not a JSON object');
  const j = raw as Record<string, unknown>;
  const rows = config.numClassEmbeds;
  if (rows === null) throw new ModelLoadError("playground.json names classes, but config.json's model has no class embedding");
  const noLabel = checkNoLabelClass(j.noLabelClass, config, 'playground.json');
  const classes = j.classes;
  const count = noLabel === null ? rows : rows - 1;
  if (!Array.isArray(classes) || classes.length !== count || !classes.every((c) => typeof c === 'string' && c.length > 0 && c.length <= 64))
    throw new ModelLoadError(`playground.json: classes must be ${count} names (of at most 64 characters), one per class`);
  if (j.sampling === undefined) return { classes: classes as string[], noLabelClass: noLabel };
  const sampling = parseSamplingHint(j.sampling);
  if (sampling === null || (sampling.label !== undefined && sampling.label >= count))
    throw new ModelLoadError(
      `playground.json: sampling must be an object of sampler (a name), steps (1 … 1000), guidance (0 … 20) and label (a class, below ${count})`,
    );
  return { classes: classes as string[], noLabelClass: noLabel, sampling };
}

/** A file's "no label" row (absent or null: none), checked: it must be the model's last class-embedding row. */
export function checkNoLabelClass(value: unknown, config: ModelConfig, file: string): number | null {
  if (value === undefined || value === null) return null;
  const rows = isUNet2D(config) ? config.numClassEmbeds : null;
  if (rows === null || value !== rows - 1)
    throw new ModelLoadError(
      `${file}: noLabelClass must be the last class-embedding row, ${rows === null ? 'and this model has none' : rows - 1}, got ${JSON.stringify(value)}`,
    );
  return rows - 1;
}

/** The config with its "no label" row: the classes are the rows before it, and guidance uses it. */
export function withNoLabel(config: UNet2DConfig, noLabelClass: number | null): UNet2DConfig {
  return noLabelClass === null ? config : { ...config, noLabelClass, numClasses: noLabelClass };
}
