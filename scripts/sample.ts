/**
 * Sampling CLI — the same pipeline code the page runs, in Node:
 *   npm run sample -- --model DIR|REPO_ID --label <0-9|all> --count N --sampler ddpm|ddim|dpm-solver++
 *                     --steps K --eta E --guidance W --seed S --out DIR
 *   npm run sample -- --model public/models/captioned-digits --prompt "a small 3 in the top left" [--negative "..."] [--maps] …
 * Writes DIR/<label>_<index>.png (a text model: DIR/<prompt's words>_<index>.png; 8-bit, the model's
 * resolution) and prints the time taken. --maps (a text model) also writes DIR/<words>_maps.png: the
 * first image's run at six of its steps, a row each — x̂0, then each word's cross-attention over it.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runSteps, SAMPLER_NAMES, SAMPLING_DEFAULTS, type SamplerName } from '../src/pipeline/defaults';
import { generate } from '../src/pipeline/generate';
import { parseCliArgs } from './args';
import { NODE_BACKENDS, useCliBackend, type NodeBackendName } from './node-backend';
import { loadModelFrom } from './node-io';
import { drawsUnlabelled } from '../src/model/plans';
import { encodePng, toBytes } from './png';
import { isTextUNet } from '../src/model/config';
import { describeUnread, START, tokenize, words } from '../src/text/tokenizer';
import { heatRGBA, wordMap } from '../src/text/attention-maps';
import { sample as reverseProcess, type SampleOptions } from '../src/pipeline/sample';
import { stripIndices } from '../src/worker/trajectory';
import type { UNet } from '../src/model/model';
import type { DiffusionConfig } from '../src/diffusion/scheduler';

const USAGE =
  'usage: npm run sample -- [--model DIR|REPO_ID] [--label 0-9|all|none | --prompt TEXT [--negative TEXT]] [--count N] [--sampler ddpm|ddim|dpm-solver++] [--steps K (default: DDIM 50, DPM-Solver++ 20)] [--eta E] [--guidance W] [--seed S] [--out DIR] [--batch B] [--backend wasm|cpu|webgpu]';

export async function main(argv: string[]): Promise<number> {
  const maps = argv.includes('--maps');
  const a = parseCliArgs(
    argv.filter((arg) => arg !== '--maps'),
    {
      model: { kind: 'string' },
      label: { kind: 'string' },
      prompt: { kind: 'string' },
      negative: { kind: 'string' },
      count: { kind: 'int', min: 1, max: 100000 },
      sampler: { kind: 'string', choices: SAMPLER_NAMES },
      steps: { kind: 'int', min: 1, max: 1000 },
      eta: { kind: 'number', min: 0, max: 1 },
      guidance: { kind: 'number', min: 0, max: 50 },
      seed: { kind: 'int', min: 0, max: 2 ** 31 - 1 },
      out: { kind: 'string' },
      batch: { kind: 'int', min: 1, max: 1024 },
      backend: { kind: 'string', choices: [...NODE_BACKENDS] },
    },
    // steps 0: the sampler's own default (SAMPLERS)
    {
      model: 'public/models/mnist',
      label: 'all',
      prompt: '',
      negative: '',
      count: 1,
      ...SAMPLING_DEFAULTS,
      steps: 0,
      out: 'samples',
      batch: 50,
      backend: 'wasm',
    },
    USAGE,
  );
  if (a === 'help') return 0;
  if (!a) return 2;
  if ((await useCliBackend(a.backend as NodeBackendName)) === null) return 2;
  const { model, diffusion } = await loadModelFrom(String(a.model));
  const nc = model.config.numClasses;
  const label = String(a.label);
  const text = isTextUNet(model.config);
  const usage = (message: string) => {
    console.error(`error: ${message}\n${USAGE}`);
    model.dispose();
    return 2;
  };
  if (!text && (a.prompt !== '' || a.negative !== ''))
    return usage(`'${String(a.model)}' is not a text model: --prompt and --negative need one`);
  if (text && argv.includes('--label')) return usage(`'${String(a.model)}' is a text model: give --prompt, not --label`);
  if (maps && !text) return usage(`--maps shows a text model's cross-attention; '${String(a.model)}' is not a text model`);
  if (text)
    for (const p of [String(a.prompt), String(a.negative)]) {
      const unread = describeUnread(tokenize(p, model.config.text.vocabulary, model.config.text.maxTokens));
      if (unread) process.stderr.write(`warning: "${p}": ${unread}\n`);
    }
  let labels: (number | null)[];
  if (text) labels = new Array<null>(Number(a.count)).fill(null);
  else if (label === 'all')
    labels =
      nc > 0
        ? Array.from({ length: nc * Number(a.count) }, (_, i) => Math.floor(i / Number(a.count)))
        : new Array<null>(Number(a.count)).fill(null);
  else if (label === 'none') labels = new Array<null>(Number(a.count)).fill(null);
  else {
    const l = Number(label);
    if (!Number.isInteger(l) || l < 0 || l >= nc) {
      console.error(
        `error: --label must be ${nc > 0 ? `0-${nc - 1}, ` : ''}all or none; got '${label}'${nc === 0 ? ' (this model is unconditional)' : ''}\n${USAGE}`,
      );
      return 2;
    }
    labels = new Array<number>(Number(a.count)).fill(l);
  }
  const started = performance.now();
  const images = await generate(model, diffusion, labels, {
    sampler: a.sampler as SamplerName,
    steps: Number(a.steps) || undefined,
    eta: Number(a.eta),
    // a class-conditional UNet2DModel has no unconditional branch to guide with
    guidance: drawsUnlabelled(model.config) ? Number(a.guidance) : 1,
    seed: Number(a.seed),
    batchSize: Number(a.batch),
    ...(text ? { prompts: labels.map(() => String(a.prompt)), negativePrompt: String(a.negative) } : {}),
    onBatch: (done, total) => process.stderr.write(`\r${done}/${total} samples`),
  });
  process.stderr.write('\n');
  await mkdir(String(a.out), { recursive: true });
  const counts = new Map<string, number>();
  const size = model.config.imageSize;
  for (let i = 0; i < images.length; i++) {
    const name = text ? words(String(a.prompt)).join('-') || 'empty' : labels[i] === null ? 'none' : String(labels[i]);
    const k = counts.get(name) ?? 0;
    counts.set(name, k + 1);
    await writeFile(join(String(a.out), `${name}_${k}.png`), encodePng(toBytes(images[i]), size, size, model.config.inChannels as 1 | 3));
  }
  const seconds = (performance.now() - started) / 1000;
  if (maps) {
    const grid = await attentionGrid(model, diffusion, {
      sampler: a.sampler as SamplerName,
      steps: Number(a.steps) || undefined,
      eta: Number(a.eta),
      guidance: Number(a.guidance),
      seed: Number(a.seed),
      batch: 1,
      prompts: [String(a.prompt)],
      negativePrompt: String(a.negative),
      attentionMaps: true,
    });
    const file = join(String(a.out), `${words(String(a.prompt)).join('-') || 'empty'}_maps.png`);
    await writeFile(file, encodePng(grid.pixels, grid.width, grid.height, 3));
    console.log(`wrote ${file}: rows t = ${grid.ts.join(', ')}; columns x̂0, ${grid.words.join(', ')}`);
  }
  console.log(
    `wrote ${images.length} samples to ${a.out} in ${seconds.toFixed(1)} s (${a.sampler} ${runSteps(a.sampler as SamplerName, Number(a.steps) || undefined, diffusion.numTrainTimesteps)} steps${a.sampler === 'ddim' ? `, η ${a.eta}` : ''}, guidance ${a.guidance}, seed ${a.seed}${text ? `, prompt "${String(a.prompt)}"${a.negative !== '' ? `, negative "${String(a.negative)}"` : ''}` : ''})`,
  );
  model.dispose();
  return 0;
}

/**
 * The first image's run as a grid (RGB): a row per strip step (six of the run's steps), x̂0 in grey
 * and then each word's cross-attention over it (scripts and the page draw the same heat maps).
 */
async function attentionGrid(
  model: UNet,
  diffusion: DiffusionConfig,
  options: SampleOptions,
): Promise<{ pixels: Uint8Array; width: number; height: number; ts: number[]; words: string[] }> {
  const rows: { t: number; x0: Float32Array; maps: Float32Array; words: string[] }[] = [];
  const c = model.config;
  if (!isTextUNet(c)) throw new Error('not a text model');
  const read = [
    START,
    ...tokenize(options.prompts![0], c.text.vocabulary, c.text.maxTokens)
      .ids.slice(1)
      .filter((id) => id > 1)
      .map((id) => c.text.vocabulary[id]),
  ];
  let keep: Set<number> | null = null;
  for (const step of reverseProcess(model, diffusion, options)) {
    keep ??= stripIndices(step.total, 5);
    if (!keep.has(step.index)) continue;
    const all = (await step.attention!.data()) as Float32Array;
    const l = step.attention!.shape[3]!;
    const pixels = c.imageSize * c.imageSize;
    // the first image, the tokens read
    const maps = Float32Array.from({ length: pixels * read.length }, (_, i) => all[Math.floor(i / read.length) * l + (i % read.length)]);
    rows.push({ t: step.t + 1, x0: ((await step.predOriginalSample.data()) as Float32Array).slice(0, pixels), maps, words: read });
  }
  const size = c.imageSize;
  const gap = 2;
  const columns = 1 + read.length;
  const width = columns * (size + gap) - gap;
  const height = rows.length * (size + gap) - gap;
  const out = new Uint8Array(width * height * 3).fill(255);
  const tile = (row: number, col: number, rgb: (p: number) => [number, number, number]) => {
    for (let p = 0; p < size * size; p++) {
      const o = ((row * (size + gap) + Math.floor(p / size)) * width + col * (size + gap) + (p % size)) * 3;
      out.set(rgb(p), o);
    }
  };
  rows.forEach((r, row) => {
    tile(row, 0, (p) => {
      const v = Math.round(((Math.min(1, Math.max(-1, r.x0[p])) + 1) / 2) * 255);
      return [v, v, v];
    });
    r.words.forEach((_, w) => {
      const rgba = heatRGBA(wordMap({ words: r.words, size, maps: r.maps }, w), r.x0);
      tile(row, 1 + w, (p) => [rgba[p * 4], rgba[p * 4 + 1], rgba[p * 4 + 2]]);
    });
  });
  return { pixels: out, width, height, ts: rows.map((r) => r.t), words: read.map((w, i) => (i === 0 ? 'start' : w)) };
}
