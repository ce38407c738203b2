/**
 * `npm run bench:ttq`: time to quality of the page's own training recipe, on wasm in Node (one
 * thread: tfjs-wasm has no threads in Node; the page gets one per core).
 *   npm run bench:ttq -- [--digit D] [--minutes 2,5,10] [--samples N] [--init tiny|small|shipped]
 *                        [--batch B] [--lr L] [--steps S] [--ema E] [--warmup W] [--base C] [--mults 1,2,2] [--seed S] [--grids DIR] [--out FILE]
 * Trains, as a person would, on the ~900 training digits of one MNIST class (unconditional,
 * src/data/mnist-split.ts), with the page's defaults (src/training/recipe.ts) unless an option
 * overrides one. At each wall-clock mark (training time only: the judging is not counted) it draws
 * N DDIM-50 samples from the EMA weights, the way the page's previews do, and judges them with the
 * eval's digit classifier (eval/classifier): the share recognised as the trained digit, and the
 * Fréchet distance of their classifier features to the class's 100 held-out digits, next to the same
 * distance for N real training digits of the class (the floor at this N) and their ratio. JSON on
 * stdout (and --out), progress on stderr, a grid of the first 32 samples per mark in --grids.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ImageDataset } from '../src/data/dataset';
import { DIGIT_SIZE } from '../src/data/mnist-split';
import { frechetDistanceOf } from '../src/eval/frechet';
import { loadModel } from '../src/model/io';
import type { UNet } from '../src/model/model';
import { generate } from '../src/pipeline/generate';
import { presetConfig } from '../src/training/presets';
import { DEFAULT_DIFFUSION } from '../src/diffusion/scheduler';
import { DEFAULT_SETUP, trainConfigFor } from '../src/training/recipe';
import { TrainingSession } from '../src/training/session';
import { parseArgs, UsageError } from '../scripts/args';
import { classify } from '../src/eval/digit-classifier';
import { CLASSIFIER_DIR, loadClassifier } from '../scripts/classifier';
import { loadMnist, toSignedRange } from '../scripts/mnist';
import { useNodeBackend } from '../scripts/node-backend';
import { fileHandler } from '../scripts/node-io';
import { encodePng, toBytes } from '../scripts/png';

const USAGE =
  'usage: npm run bench:ttq -- [--digit D] [--minutes 2,5,10] [--samples N] [--init tiny|small|shipped] [--batch B] [--lr L] [--steps S] [--ema E] [--warmup W] [--base C] [--mults 1,2,2] [--seed S] [--grids DIR] [--out FILE]';
const log = (m: string) => process.stderr.write(`${m}\n`);
const round = (x: number, digits = 3) => Number(x.toPrecision(digits));

export interface Mark {
  minutes: number;
  step: number;
  imagesSeen: number;
  imagesPerSecond: number;
  /** Share of the samples the classifier reads as the trained digit. */
  recognised: number;
  frechet: number;
  /** frechet / the real-vs-real distance at the same sample count. */
  frechetRatio: number;
  loss: number;
}

/** A grid of 28×28 grey tiles, 8 a row, 2 px apart on white. */
function grid(images: Float32Array[]): { pixels: Uint8Array; width: number; height: number } {
  const cols = 8;
  const pitch = DIGIT_SIZE + 2;
  const rows = Math.ceil(images.length / cols);
  const width = cols * pitch - 2;
  const height = rows * pitch - 2;
  const pixels = new Uint8Array(width * height).fill(255);
  images.forEach((image, i) => {
    const bytes = toBytes(image);
    const [r, c] = [Math.floor(i / cols), i % cols];
    for (let y = 0; y < DIGIT_SIZE; y++)
      pixels.set(bytes.subarray(y * DIGIT_SIZE, (y + 1) * DIGIT_SIZE), (r * pitch + y) * width + c * pitch);
  });
  return { pixels, width, height };
}

export async function main(argv: string[]): Promise<number> {
  let a;
  try {
    a = parseArgs(
      argv,
      {
        digit: { kind: 'int', min: 0, max: 9 },
        minutes: { kind: 'string' },
        samples: { kind: 'int', min: 8, max: 1000 },
        init: { kind: 'string', choices: ['tiny', 'small', 'shipped'] },
        batch: { kind: 'int', min: 1, max: 256 },
        lr: { kind: 'number', min: 1e-6, max: 0.1 },
        steps: { kind: 'int', min: 1, max: 1_000_000 },
        ema: { kind: 'number', min: 0, max: 0.99999 },
        warmup: { kind: 'int', min: -1, max: 100_000 },
        base: { kind: 'int', min: 0, max: 256 },
        mults: { kind: 'string' },
        seed: { kind: 'int', min: 0, max: 2 ** 31 },
        grids: { kind: 'string' },
        out: { kind: 'string' },
      },
      {
        digit: 3,
        minutes: '2,5,10',
        samples: 64,
        init: DEFAULT_SETUP.init === 'shipped' ? 'tiny' : DEFAULT_SETUP.init,
        batch: DEFAULT_SETUP.batchSize,
        lr: DEFAULT_SETUP.learningRate,
        steps: DEFAULT_SETUP.totalSteps,
        ema: -1,
        warmup: -1,
        base: 0,
        mults: '',
        seed: 0,
        grids: '',
        out: '',
      },
    );
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`error: ${e.message}\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  const marks = String(a.minutes).split(',').map(Number);
  if (marks.some((m) => !(m > 0)) || marks.some((m, i) => i > 0 && m <= marks[i - 1])) {
    console.error(`error: --minutes must be increasing positive numbers, e.g. 2,5,10; got '${a.minutes}'\n${USAGE}`);
    return 2;
  }
  const digit = Number(a.digit);
  const n = Number(a.samples);
  await useNodeBackend('wasm');
  const classifier = await loadClassifier(CLASSIFIER_DIR);
  if (!classifier) {
    console.error(`error: no digit classifier in ${CLASSIFIER_DIR} (npm run eval trains one)`);
    return 2;
  }

  // 1. the data: the training digits of one class, as a person's upload (bytes, no labels)
  const { train, heldOut } = await loadMnist();
  const mine = train.images.filter((_, i) => train.labels[i] === digit);
  const dataset = new ImageDataset({ size: DIGIT_SIZE, channels: 1, fit: 'crop' });
  mine.forEach((image, i) =>
    dataset.add({ name: `${digit}_${i}.png`, label: null, pixels: Uint8Array.from(image, (v) => Math.round(v * 255)) }),
  );
  const realFeatures = (
    await classify(classifier, toSignedRange({ images: heldOut.images.filter((_, i) => heldOut.labels[i] === digit), labels: [] }))
  ).features;
  const floor = frechetDistanceOf(
    (await classify(classifier, toSignedRange({ images: mine.slice(0, n), labels: [] }))).features,
    realFeatures,
  );

  // 2. the page's recipe, with the overrides asked for
  const setup = {
    ...DEFAULT_SETUP,
    init: String(a.init) as 'tiny' | 'small' | 'shipped',
    batchSize: Number(a.batch),
    learningRate: Number(a.lr),
    totalSteps: Number(a.steps),
  };
  const trainConfig = {
    ...trainConfigFor(setup),
    ...(Number(a.ema) >= 0 ? { emaDecay: Number(a.ema) } : {}),
    ...(Number(a.warmup) >= 0 ? { warmupSteps: Number(a.warmup) } : {}),
  };
  // 'shipped' fine-tunes the page's digits model, as the page does: the unlabelled pictures train its "no label" class
  let init: UNet | undefined;
  let diffusion = DEFAULT_DIFFUSION;
  if (setup.init === 'shipped') ({ model: init, diffusion } = await loadModel(fileHandler('public/models/mnist')));
  const preset = init ? init.config : presetConfig(setup.init as 'tiny' | 'small', DIGIT_SIZE, 1, 0);
  // --base / --mults try other widths and depths than the preset's (to choose presets by measurement)
  const config = {
    ...preset,
    ...(Number(a.base) > 0 ? { baseChannels: Number(a.base) } : {}),
    ...(a.mults !== '' ? { channelMults: String(a.mults).split(',').map(Number) } : {}),
  };
  log(
    `bench:ttq: digit ${digit} (${mine.length} images), ${setup.init} U-Net, batch ${setup.batchSize}, ${JSON.stringify(trainConfig)}; marks at ${marks.join(', ')} min; floor FD ${floor.toFixed(2)} at N = ${n}`,
  );
  let trainingMs = 0;
  let lastStepAt = 0;
  let nextMark = 0;
  let loss = NaN;
  const session = TrainingSession.create(
    config,
    diffusion,
    trainConfig,
    dataset,
    { batchSize: setup.batchSize, totalSteps: setup.totalSteps, flip: setup.flip, previewEvery: 0, checkpointEvery: 1_000_000 },
    {
      onStep: (result) => {
        const now = performance.now();
        trainingMs += now - lastStepAt;
        lastStepAt = now;
        loss = result.loss;
        if (trainingMs >= marks[nextMark] * 60_000) session.stop();
      },
    },
    init,
    Number(a.seed),
  );
  init?.dispose();

  // 3. train to each mark, judge, go on
  const results: Mark[] = [];
  while (nextMark < marks.length) {
    lastStepAt = performance.now();
    const reason = await session.run();
    if (reason.kind === 'diverged' || reason.kind === 'error') throw new Error(`training failed: ${reason.message}`);
    const step = session.trainer.step;
    const images = await generate(session.samplingModel, diffusion, Array<null>(n).fill(null), {
      sampler: 'ddim',
      steps: 50,
      guidance: 1,
      seed: 1000,
      batchSize: 32,
    });
    const judged = await classify(classifier, images);
    const recognised = judged.labels.filter((l) => l === digit).length / n;
    const frechet = frechetDistanceOf(judged.features, realFeatures);
    const minutes = trainingMs / 60_000;
    const mark: Mark = {
      minutes: round(minutes),
      step,
      imagesSeen: step * setup.batchSize,
      imagesPerSecond: round((step * setup.batchSize) / (trainingMs / 1000)),
      recognised: round(recognised),
      frechet: round(frechet),
      frechetRatio: round(frechet / floor),
      loss: round(loss),
    };
    results.push(mark);
    log(
      `  ${minutes.toFixed(1)} min, step ${step} (${mark.imagesPerSecond} img/s): recognised ${(100 * recognised).toFixed(1)} %, FD ${frechet.toFixed(2)} (${mark.frechetRatio}× floor), loss ${loss.toFixed(4)}`,
    );
    if (a.grids !== '') {
      await mkdir(String(a.grids), { recursive: true });
      const g = grid(images.slice(0, 32));
      await writeFile(join(String(a.grids), `ttq-${setup.init}-${marks[nextMark]}min.png`), encodePng(g.pixels, g.width, g.height, 1));
    }
    if (reason.kind === 'finished') {
      log(`  the run reached its ${setup.totalSteps} steps before the ${marks[nextMark]}-minute mark`);
      break;
    }
    nextMark++;
  }
  session.dispose();
  classifier.dispose();
  const report = {
    machine: { date: new Date().toISOString(), node: process.version, backend: 'wasm (1 thread, SIMD)' },
    data: { digit, images: mine.length },
    recipe: { init: setup.init, batchSize: setup.batchSize, totalSteps: setup.totalSteps, config, trainConfig },
    judge: { samples: n, sampler: 'DDIM-50, η = 0, EMA weights', frechetFloor: round(floor) },
    marks: results,
  };
  const json = `${JSON.stringify(report, null, 2)}\n`;
  if (a.out !== '') await writeFile(String(a.out), json);
  process.stdout.write(json);
  return 0;
}
