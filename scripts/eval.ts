/**
 * Sample-quality report (issue 5):
 *   npm run eval -- [--model DIR] [--per-label N] [--settings ddpm,ddim50] [--guidance 2,…] [--seed S]
 *                   [--batch B] [--grids DIR] [--out report.json] [--retrain] [--backend wasm|cpu|webgpu]
 * Every setting (sampler spec × guidance) generates N samples per label 0–9 with the page's own
 * pipeline (generate()) and judges them with the digit classifier in public/models/digit-classifier (trained first
 * on the 9,000 training digits when missing, or always with --retrain):
 *  - label accuracy: the share of samples the classifier assigns to the requested label (also per label);
 *  - Fréchet distance (src/eval/frechet.ts) between the classifier features of the samples and of the
 *    1,000 held-out digits, next to the real-vs-real floor: the same distance between the held-out
 *    digits and 1,000 training digits (the first 100 of each class), and their ratio. A Fréchet
 *    distance from fewer samples is biased upwards, so compare settings at the same N, and with the
 *    floor only at N = 100 (1,000 samples, as the floor's sets).
 *   npm run eval -- --samples DIR
 * judges pictures made elsewhere instead (`<label>_<index>.png`, 28×28 grey: `npm run sample` or
 * tools/torch/sample.py, which draws 1,000 DDPM samples in a fraction of tfjs-wasm's time).
 * Progress goes to stderr, the JSON report to stdout (and --out); a sample grid per setting to
 * <grids>/samples-<setting>.png (default docs/; one row per label, its first 10 samples).
 */
import { SAMPLING_DEFAULTS, type SamplerName } from '../src/pipeline/defaults';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { DIGIT_SIZE, firstPerClass, HELD_OUT_PER_CLASS } from '../src/data/mnist-split';
import { frechetDistanceOf } from '../src/eval/frechet';
import { loadModel, type LoadedModel } from '../src/model/io';
import { generate } from '../src/pipeline/generate';
import { parseArgs, UsageError } from './args';
import { accuracy, classify, trainClassifier } from '../src/eval/digit-classifier';
import { CLASSIFIER_DIR, loadClassifier, saveClassifier } from './classifier';
import { loadMnist, toSignedRange } from './mnist';
import { NODE_BACKENDS, useCliBackend, type NodeBackendName } from './node-backend';
import { fileHandler } from './node-io';
import { decodePng, encodePng, toBytes } from './png';

const USAGE =
  'usage: npm run eval -- [--model DIR] [--per-label N] [--settings ddpm,ddim<K>[-eta<E>],dpm<K>,…] [--guidance W,…] [--seed S] [--batch B] [--grids DIR] [--out FILE] [--retrain] [--backend wasm|cpu|webgpu]\n' +
  '       npm run eval -- --samples DIR [--grids DIR] [--out FILE] [--retrain] [--backend B]   (scores <label>_<index>.png pictures made elsewhere)';
const CLASSES = 10;
const CLASSIFIER_TRAINING = { epochs: 10, batchSize: 64, seed: 0 };
const GRID_COLUMNS = 10;
const GRID_GAP = 2;

interface Setting {
  /** e.g. 'ddpm-g2', 'ddim50-g2', 'ddim50-eta1-g3', 'dpm20-g1' (also the grid's file name). */
  name: string;
  sampler: SamplerName;
  steps: number;
  eta: number;
  guidance: number;
}

/**
 * 'ddpm' (every train timestep), 'ddim<K>[-eta<E>]' (K steps, η = E, default 0) or 'dpm<K>'
 * (DPM-Solver++(2M), K steps), each with every guidance scale.
 */
function parseSettings(specs: string, guidances: string, trainSteps: number): Setting[] {
  const scales = guidances.split(',').map((g) => {
    const w = Number(g);
    if (g.trim() === '' || !Number.isFinite(w) || w < 0 || w > 50)
      throw new UsageError(`--guidance must be a comma list of numbers in [0, 50]; got '${g}'`);
    return w;
  });
  return specs.split(',').flatMap((spec) => {
    const ddim = /^ddim(\d+)(?:-eta([0-9.]+))?$/.exec(spec);
    const dpm = /^dpm(\d+)$/.exec(spec);
    if (spec !== 'ddpm' && !ddim && !dpm)
      throw new UsageError(
        `--settings entries are 'ddpm', 'ddim<steps>[-eta<η>]' or 'dpm<steps>' (e.g. ddim50, ddim50-eta1, dpm20); got '${spec}'`,
      );
    const sampler: SamplerName = ddim ? 'ddim' : dpm ? 'dpm-solver++' : 'ddpm';
    const steps = ddim ? Number(ddim[1]) : dpm ? Number(dpm[1]) : trainSteps;
    const eta = ddim?.[2] === undefined ? 0 : Number(ddim[2]);
    if (steps < 1 || steps > trainSteps) throw new UsageError(`'${spec}': steps must be in [1, ${trainSteps}]`);
    if (!(eta >= 0 && eta <= 1)) throw new UsageError(`'${spec}': η must be in [0, 1]`);
    return scales.map((guidance) => ({ name: `${spec}-g${guidance}`, sampler, steps, eta, guidance }));
  });
}

/** Grayscale bytes of a grid: row r holds the first `columns` images labelled r, tiles GRID_GAP px apart on white. */
function sampleGrid(images: Float32Array[], labels: number[], columns: number): { pixels: Uint8Array; width: number; height: number } {
  const pitch = DIGIT_SIZE + GRID_GAP;
  const width = columns * pitch - GRID_GAP;
  const height = CLASSES * pitch - GRID_GAP;
  const pixels = new Uint8Array(width * height).fill(255);
  for (let row = 0; row < CLASSES; row++) {
    const tiles = images.filter((_, i) => labels[i] === row).slice(0, columns);
    tiles.forEach((image, col) => {
      const bytes = toBytes(image);
      for (let y = 0; y < DIGIT_SIZE; y++)
        pixels.set(bytes.subarray(y * DIGIT_SIZE, (y + 1) * DIGIT_SIZE), (row * pitch + y) * width + col * pitch);
    });
  }
  return { pixels, width, height };
}

const round = (x: number, digits: number) => Number(x.toFixed(digits));

/** Label-named sample pictures (`<label>_<index>.png`, 28×28 grey, as `npm run sample` and tools/torch/sample.py write them) in [−1, 1]. */
async function readSamples(dir: string): Promise<{ images: Float32Array[]; labels: number[] }> {
  const entries = await readdir(dir).catch((e: NodeJS.ErrnoException) => {
    throw new UsageError(`--samples: cannot read the directory '${dir}' (${e.code ?? e.message})`);
  });
  const named = entries.filter((f) => f.toLowerCase().endsWith('.png')).map((file) => ({ file, m: /^(\d+)_(\d+)\.png$/.exec(file) }));
  const misnamed = named.filter((n) => n.m === null || Number(n.m[1]) >= CLASSES).map((n) => n.file);
  if (misnamed.length > 0)
    throw new UsageError(
      `--samples: '${dir}' has pictures not named <label 0-9>_<index>.png: ${misnamed.slice(0, 5).join(', ')}${misnamed.length > 5 ? ', …' : ''}`,
    );
  if (named.length === 0) throw new UsageError(`--samples: no <label>_<index>.png pictures in '${dir}'`);
  const files = named
    .map(({ file, m }) => ({ file, label: Number(m![1]), index: Number(m![2]) }))
    .sort((x, y) => x.label - y.label || x.index - y.index);
  const images = [];
  for (const { file } of files) {
    let png;
    try {
      png = decodePng(await readFile(join(dir, file)));
    } catch (e) {
      throw new UsageError(`--samples: ${file}: ${(e as Error).message}`);
    }
    if (png.width !== DIGIT_SIZE || png.height !== DIGIT_SIZE || png.channels !== 1)
      throw new UsageError(
        `--samples: ${file} is ${png.width}×${png.height} with ${png.channels} channels; the eval reads ${DIGIT_SIZE}×${DIGIT_SIZE} grey digits`,
      );
    images.push(Float32Array.from(png.pixels, (v) => v / 127.5 - 1));
  }
  return { images, labels: files.map((f) => f.label) };
}

/** Options that choose how samples are generated, so meaningless with --samples. */
const GENERATION_OPTIONS = ['--model', '--per-label', '--settings', '--guidance', '--seed', '--batch'];

export async function main(argv: string[]): Promise<number> {
  const retrain = argv.includes('--retrain');
  let a;
  try {
    a = parseArgs(
      argv.filter((arg) => arg !== '--retrain'),
      {
        model: { kind: 'string' },
        'per-label': { kind: 'int', min: 1, max: 100000 },
        settings: { kind: 'string' },
        guidance: { kind: 'string' },
        seed: { kind: 'int', min: 0, max: 2 ** 31 - 1 },
        batch: { kind: 'int', min: 1, max: 1024 },
        samples: { kind: 'string' },
        grids: { kind: 'string' },
        out: { kind: 'string' },
        backend: { kind: 'string', choices: [...NODE_BACKENDS] },
      },
      {
        model: 'public/models/mnist',
        'per-label': 100,
        settings: 'ddpm,ddim50',
        guidance: String(SAMPLING_DEFAULTS.guidance),
        seed: 0,
        batch: 50,
        samples: '',
        grids: 'docs',
        out: '',
        backend: 'wasm',
      },
    );
    const clash = GENERATION_OPTIONS.find((o) => argv.includes(o));
    if (a.samples !== '' && clash)
      throw new UsageError(`--samples scores pictures already made; ${clash} (how to make them) does not apply`);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`error: ${e.message}\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  const backend = await useCliBackend(a.backend as NodeBackendName);
  if (backend === null) return 2;
  let given: { images: Float32Array[]; labels: number[] } | null = null;
  let generator: (LoadedModel & { settings: Setting[] }) | null = null;
  try {
    if (a.samples !== '') given = await readSamples(String(a.samples));
    else {
      generator = { ...(await loadModel(fileHandler(String(a.model)))), settings: [] };
      const { model, diffusion } = generator;
      if (model.config.numClasses !== CLASSES)
        throw new UsageError(`the eval needs a ${CLASSES}-class conditional model; '${a.model}' has ${model.config.numClasses} classes`);
      generator.settings = parseSettings(String(a.settings), String(a.guidance), diffusion.numTrainTimesteps);
    }
  } catch (e) {
    generator?.model.dispose();
    if (e instanceof UsageError) {
      console.error(`error: ${e.message}\n${USAGE}`);
      return 2;
    }
    throw e;
  }

  const { train, heldOut } = await loadMnist();
  const heldOutImages = toSignedRange(heldOut);
  let classifier = retrain ? null : await loadClassifier(CLASSIFIER_DIR);
  const trained = classifier === null;
  if (classifier === null) {
    process.stderr.write(`training the classifier on ${train.images.length} digits (${CLASSIFIER_TRAINING.epochs} epochs)\n`);
    classifier = await trainClassifier(toSignedRange(train), train.labels, {
      ...CLASSIFIER_TRAINING,
      onEpoch: (epoch, loss, seconds) =>
        process.stderr.write(`  epoch ${epoch + 1}/${CLASSIFIER_TRAINING.epochs}: loss ${loss.toFixed(4)} (${seconds.toFixed(0)} s)\n`),
    });
  }
  const real = await classify(classifier, heldOutImages);
  const heldOutAccuracy = accuracy(real.labels, heldOut.labels);
  if (trained) {
    await saveClassifier(classifier, CLASSIFIER_DIR, {
      trainedOn: `${train.images.length} MNIST training digits (src/data/mnist-split.ts)`,
      ...CLASSIFIER_TRAINING,
      heldOutAccuracy,
    });
    process.stderr.write(`saved the classifier to ${CLASSIFIER_DIR}\n`);
  }
  process.stderr.write(`classifier held-out accuracy: ${(100 * heldOutAccuracy).toFixed(1)}%\n`);
  const reference = firstPerClass(train, HELD_OUT_PER_CLASS);
  const floor = frechetDistanceOf(real.features, (await classify(classifier, toSignedRange(reference))).features);
  process.stderr.write(`real-vs-real Fréchet floor: ${floor.toFixed(3)}\n`);

  /** Label accuracy (overall and per label), Fréchet distance to the held-out digits, and a grid in --grids. */
  const judge = async (name: string, images: Float32Array[], labels: number[]) => {
    const judged = await classify(classifier, images);
    const fd = frechetDistanceOf(judged.features, real.features);
    const grid = sampleGrid(images, labels, GRID_COLUMNS);
    const gridPath = join(String(a.grids), `samples-${name}.png`);
    await mkdir(String(a.grids), { recursive: true });
    await writeFile(gridPath, encodePng(grid.pixels, grid.width, grid.height, 1));
    const labelAccuracy = accuracy(judged.labels, labels);
    const perLabelAccuracy = Array.from({ length: CLASSES }, (_, d) => {
      const mine = labels.flatMap((l, i) => (l === d ? [i] : []));
      return mine.length === 0
        ? null
        : accuracy(
            mine.map((i) => judged.labels[i]),
            mine.map(() => d),
          );
    });
    process.stderr.write(
      `[${name}] label accuracy ${(100 * labelAccuracy).toFixed(1)}%, FD ${fd.toFixed(3)} (${(fd / floor).toFixed(2)}× floor)\n`,
    );
    return {
      samples: images.length,
      labelAccuracy,
      perLabelAccuracy,
      frechetDistance: round(fd, 4),
      fdOverFloor: round(fd / floor, 3),
      grid: gridPath,
    };
  };

  const results = [];
  if (given !== null) {
    const name = basename(resolve(String(a.samples)));
    results.push({ name, source: String(a.samples), ...(await judge(name, given.images, given.labels)) });
  } else if (generator !== null) {
    const perLabel = Number(a['per-label']);
    const labels = Array.from({ length: CLASSES * perLabel }, (_, i) => Math.floor(i / perLabel));
    for (const s of generator.settings) {
      const started = performance.now();
      const images = await generate(generator.model, generator.diffusion, labels, {
        sampler: s.sampler,
        steps: s.steps,
        eta: s.eta,
        guidance: s.guidance,
        seed: Number(a.seed),
        batchSize: Number(a.batch),
        onBatch: (done, total) =>
          process.stderr.write(`\r[${s.name}] ${done}/${total} samples, ${((performance.now() - started) / 1000).toFixed(0)} s`),
      });
      const generateSeconds = (performance.now() - started) / 1000;
      process.stderr.write('\n');
      // one U-Net pass per image per step; classifier-free guidance (scale ≠ 1) batches two
      const imageForwards = images.length * s.steps * (s.guidance === 1 ? 1 : 2);
      const judged = await judge(s.name, images, labels);
      results.push({
        ...s,
        ...judged,
        seconds: round((performance.now() - started) / 1000, 1),
        generateSeconds: round(generateSeconds, 1),
        imageForwardsPerSecond: round(imageForwards / generateSeconds, 1),
      });
    }
    generator.model.dispose();
  }
  classifier.dispose();

  const report = {
    ...(generator !== null
      ? { model: { path: String(a.model), metadata: generator.metadata }, perLabel: Number(a['per-label']), seed: Number(a.seed) }
      : { samples: String(a.samples) }),
    classifier: { path: CLASSIFIER_DIR, trainedThisRun: trained, heldOutAccuracy, features: real.features[0].length },
    floor: {
      frechetDistance: round(floor, 4),
      between: `${heldOut.images.length} held-out digits and ${reference.images.length} training digits (first ${HELD_OUT_PER_CLASS} per class)`,
    },
    settings: results,
    backend,
  };
  const json = JSON.stringify(report, null, 2);
  console.log(json);
  if (a.out !== '') {
    await mkdir(dirname(String(a.out)), { recursive: true });
    await writeFile(String(a.out), `${json}\n`);
  }
  return 0;
}
