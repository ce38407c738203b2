/**
 * A UNet2DModel-layout model as a clean diffusers folder — config.json, float32
 * diffusion_pytorch_model.safetensors, scheduler_config.json — that UNet2DModel.from_pretrained and
 * DDPMScheduler.from_pretrained load:
 *   npm run export-diffusers -- --model DIR|OWNER/NAME --out DIR
 * DIR: a diffusers model or pipeline folder (safetensors F32/F16/BF16, or a .bin read as data, older
 * attention names renamed). So a pickled .bin becomes safetensors with nothing in it ever executed.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isUNet2D } from '../src/model/config';
import { exportDiffusers } from '../src/model/diffusers/export';
import { parseCliArgs, UsageError } from './args';
import { useCliBackend } from './node-backend';
import { loadModelFrom } from './node-io';

const USAGE = 'usage: npm run export-diffusers -- --model DIR|OWNER/NAME --out DIR';

export async function main(argv: string[]): Promise<number> {
  const a = parseCliArgs(argv, { model: { kind: 'string' }, out: { kind: 'string' } }, { model: '', out: '' }, USAGE, (args) => {
    for (const k of ['model', 'out'] as const) if (args[k] === '') throw new UsageError(`--${k} is required`);
  });
  if (a === 'help') return 0;
  if (!a) return 2;
  if ((await useCliBackend('cpu')) === null) return 2;
  const { model, diffusion, metadata } = await loadModelFrom(String(a.model));
  if (!isUNet2D(model.config)) {
    console.error(`error: ${String(a.model)} is the playground's own U-Net, not a UNet2DModel: it has no diffusers form`);
    model.dispose();
    return 2;
  }
  const files = await exportDiffusers(model, diffusion, metadata);
  model.dispose();
  await mkdir(String(a.out), { recursive: true });
  for (const [name, contents] of Object.entries(files) as [string, string | Uint8Array][])
    await writeFile(join(String(a.out), name), contents);
  console.error(`wrote ${Object.keys(files).join(', ')} to ${String(a.out)}`);
  return 0;
}
