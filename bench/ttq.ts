/**
 * `npm run bench:ttq`: time to quality of the page's own training recipe, on wasm in Node (one
 * thread: tfjs-wasm has no threads in Node; the page gets one per core).
 *   npm run bench:ttq -- [--set digit|emoji|twemoji|openmoji] [--digit D] [--minutes 2,5,10] [--samples N] [--init tiny|small|shipped]
 *                        [--batch B] [--lr L] [--steps S] [--ema E] [--warmup W] [--flip 0|1] [--min-snr G] [--base C] [--mults 1,2,2]
 *                        [--size 16|32] [--seed S] [--guidance 1.5,3] [--grids DIR] [--out FILE]
 * Trains, as a person would, with the page's defaults (src/training/recipe.ts) unless an option
 * overrides one, on one of:
 *  - digit: the ~900 training digits of one MNIST class (unlabelled, src/data/mnist-split.ts); judged
 *    by the eval's digit classifier against the class's 100 held-out digits; 'shipped' fine-tunes the
 *    digits model;
 *  - emoji: the colour prior's held-out tenth (343 Noto emoji it never saw, tools/torch/emoji_data.py),
 *    in folders named by category; 'shipped' fine-tunes the emoji model (public/models/emoji);
 *  - twemoji, openmoji: the same held-out emoji in styles the prior never saw (Twitter's, emoji_data.py
 *    --style twitter; OpenMoji's line art, --style openmoji).
 * A new colour model may train at --size 16 (each 2×2 block of the pictures averaged); the judge
 * reads 32 px, so its samples and the set's own pictures alike are enlarged back bilinearly before
 * they are judged, and the floor and ceiling are those of the enlarged set.
 * The colour sets are judged by the emoji category classifier (npm run eval:emoji): the share of
 * samples read as the category asked for, and the Fréchet distance to the set itself, whose floor is
 * N of its own pictures (spread evenly over the set) against all of them; beside it, the distance of
 * N other pictures of its kind (the style's training emoji, not in the set) says what real pictures
 * that are not the set's own score. At each wall-clock mark (training time
 * only: the judging is not counted) it draws N DDIM-50 samples from the EMA weights, the way the page's
 * previews do (a class-conditional model: the categories in turn, at the page's guidance for the model
 * trained, or at each of --guidance's scales, the first reported as the mark's own), and reports the
 * share recognised, the Fréchet distance, its floor at this N and their ratio. The distance of a
 * colour set is measured on N samples asked for the categories of the floor's N pictures (the set's
 * own mix, src/eval/mix.ts): those drawn in turn reused, more drawn where a category needs them. JSON on
 * stdout (and --out), progress on stderr, a grid of the first 32 samples per mark in --grids.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ImageDataset } from '../src/data/dataset';
import { DIGIT_SIZE } from '../src/data/mnist-split';
import { frechetDistanceOf } from '../src/eval/frechet';
import { askInMix } from '../src/eval/mix';
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../src/model/config';
import type { LoadedModel } from '../src/model/io';
import { classNames } from '../src/model/metadata';
import { generate } from '../src/pipeline/generate';
import { presetConfig } from '../src/training/presets';
import { DEFAULT_DIFFUSION } from '../src/diffusion/scheduler';
import { DEFAULT_SETUP, defaultLearningRate, priorFor, priorLabelMap, trainConfigFor } from '../src/training/recipe';
import { TrainingSession } from '../src/training/session';
import { parseArgs, UsageError } from '../scripts/args';
import { batchTensor, classAccuracy, classify } from '../src/eval/classifier';
import { CLASSIFIER_DIR, loadClassifier } from '../scripts/classifier';
import { loadMnist, toSignedRange } from '../scripts/mnist';
import { useNodeBackend } from '../scripts/node-backend';
import { loadModelFrom } from '../scripts/node-io';
import { encodePng } from '../scripts/png';
import { sampleGrid } from '../scripts/digit-pictures';
import { EMOJI_SIZE, EMOJI_STYLES, type EmojiSetName, loadEmoji } from '../scripts/emoji';
import { EMOJI_CLASSIFIER_DIR } from '../scripts/eval-emoji';
import { pageGuidance } from '../src/pipeline/defaults';
import type { TrainSetup } from '../src/training/recipe';

const USAGE =
  'usage: npm run bench:ttq -- [--set digit|emoji|twemoji|openmoji] [--digit D] [--minutes 2,5,10] [--samples N] [--init tiny|small|shipped] [--batch B] [--lr L] [--steps S] [--ema E] [--warmup W] [--flip 0|1] [--min-snr G] [--base C] [--mults 1,2,2] [--size 16|32] [--seed S] [--guidance 1.5,3] [--grids DIR] [--out FILE]';
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
  /** With several --guidance scales: the same judgement at each (the first is the mark's own). */
  byGuidance?: { guidance: number; recognised: number; frechet: number; frechetRatio: number }[];
}

/** A grid of size×size tiles, 8 a row, 2 px apart on white. */
function grid(images: Float32Array[], size: number, channels: number): { pixels: Uint8Array; width: number; height: number } {
  const cols = 8;
  const rows = Math.ceil(images.length / cols);
  return sampleGrid(
    images,
    images.map((_, i) => Math.floor(i / cols)),
    cols,
    rows,
    size,
    channels,
  );
}

/** What a run trains on and how its samples are judged. */
interface Task {
  what: Record<string, unknown>;
  dataset: ImageDataset;
  size: number;
  channels: number;
  classifier: tf.LayersModel;
  /** The classifier's class names, and the class each sample is asked to show. */
  categories: string[];
  asked: number[];
  /** The first N of `asked` judged: the share read as asked. */
  recognised: (labels: number[]) => number;
  /** The samples (indices into `asked`) the Fréchet distance is measured on: N, in the floor's mix. */
  measured: number[];
  realFeatures: Float32Array[];
  floor: number;
  /**
   * The judge's ceiling (a colour set): the share its own pictures are read right, each category
   * weighted as the samples ask for it — what samples as good as the pictures would score.
   */
  ceiling?: number;
  /**
   * The distance from the set of N other pictures of its kind (a colour set: the style's training
   * emoji, which the set does not hold, spread evenly over them). The floor is the set's own
   * pictures, which only samples that redraw the set reach; this is what real pictures that are not
   * the set's score.
   */
  others?: number;
  /** The model a fine-tune starts from, with its classes. */
  prior?: LoadedModel;
  /** Pictures at the task's size as the classifier reads them (a colour set at 16 px: enlarged to 32). */
  judgeView: (images: Float32Array[]) => Promise<Float32Array[]>;
}

/** A size×size picture (NHWC) at half the size, each 2×2 block averaged. */
function halve(image: Float32Array, size: number, channels: number): Float32Array {
  const half = size / 2;
  const out = new Float32Array(half * half * channels);
  for (let y = 0; y < half; y++)
    for (let x = 0; x < half; x++)
      for (let c = 0; c < channels; c++) {
        const at = (yy: number, xx: number) => image[(yy * size + xx) * channels + c];
        out[(y * half + x) * channels + c] =
          (at(2 * y, 2 * x) + at(2 * y, 2 * x + 1) + at(2 * y + 1, 2 * x) + at(2 * y + 1, 2 * x + 1)) / 4;
      }
  return out;
}

/** Pictures enlarged from `from` to `to` px, bilinearly with half-pixel centres (a browser's smooth scaling). */
async function enlarge(images: Float32Array[], from: number, to: number, channels: number): Promise<Float32Array[]> {
  const big = tf.tidy(() => tf.image.resizeBilinear(batchTensor(images, from, channels), [to, to], false, true));
  const values = (await big.data()) as Float32Array;
  big.dispose();
  const each = to * to * channels;
  return images.map((_, i) => values.slice(i * each, (i + 1) * each));
}

/** The digit set: one MNIST class, unlabelled, judged against its held-out digits. */
async function digitTask(digit: number, n: number, classifier: tf.LayersModel, init: string): Promise<Task> {
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
  return {
    what: { set: 'digit', digit, images: mine.length },
    dataset,
    size: DIGIT_SIZE,
    channels: 1,
    classifier,
    categories: Array.from({ length: 10 }, (_, d) => String(d)),
    asked: Array<number>(n).fill(digit),
    recognised: (labels) => labels.filter((l) => l === digit).length / n,
    measured: Array.from({ length: n }, (_, i) => i),
    realFeatures,
    floor,
    // 'shipped' fine-tunes the page's digits model, as the page does: the unlabelled pictures train its "no label" class
    ...(init === 'shipped' ? { prior: await loadModelFrom('public/models/mnist') } : {}),
    judgeView: (images) => Promise.resolve(images),
  };
}

/** A colour set: an emoji style's held-out tenth in category folders, judged against itself. */
async function emojiTask(set: EmojiSetName, n: number, classifier: tf.LayersModel, init: string, size: number): Promise<Task> {
  const data = await loadEmoji(set);
  const pictures = data.images.map((image, i) => ({
    image: size === EMOJI_SIZE ? image : halve(image, EMOJI_SIZE, 3),
    label: data.labels[i],
  }));
  const mine = pictures.filter((_, i) => data.heldOut[i]);
  const others = pictures.filter((_, i) => !data.heldOut[i]);
  // k indices spread evenly over `length` (the sets are in category order, so every category has its share)
  const spread = (length: number, k: number) =>
    Array.from({ length: Math.min(k, length) }, (_, i) => Math.floor((i * length) / Math.min(k, length)));
  const judgeView = (images: Float32Array[]) => (size === EMOJI_SIZE ? Promise.resolve(images) : enlarge(images, size, EMOJI_SIZE, 3));
  const dataset = new ImageDataset({ size, channels: 3, fit: 'crop' });
  mine.forEach(({ image, label }, i) =>
    dataset.add({ name: `${i}.png`, label: data.categories[label], pixels: Uint8Array.from(image, (v) => Math.round((v + 1) * 127.5)) }),
  );
  const present = [...new Set(mine.map((e) => e.label))].sort((a, b) => a - b);
  const real = await classify(classifier, await judgeView(mine.map((e) => e.image)));
  const realFeatures = real.features;
  // the floor: N of the set's own pictures, spread evenly, already read above, against all of them
  const floorOf = spread(mine.length, n);
  const floor = frechetDistanceOf(
    floorOf.map((i) => realFeatures[i]),
    realFeatures,
  );
  const inTurn = Array.from({ length: n }, (_, i) => present[i % present.length]);
  const mix = askInMix(
    inTurn,
    floorOf.map((i) => mine[i].label),
  );
  const truth = mine.map((e) => e.label);
  return {
    what: { set, images: mine.length, size, categories: present.map((k) => data.categories[k]) },
    dataset,
    size,
    channels: 3,
    classifier,
    categories: data.categories,
    asked: [...inTurn, ...mix.extra],
    recognised: (labels) => labels.slice(0, n).filter((l, i) => l === inTurn[i]).length / n,
    measured: mix.pick,
    realFeatures,
    floor,
    others: frechetDistanceOf(
      (await classify(classifier, await judgeView(spread(others.length, n).map((i) => others[i].image)))).features,
      realFeatures,
    ),
    ceiling: inTurn.reduce((sum, k) => sum + classAccuracy(real.labels, truth, k), 0) / n,
    ...(init === 'shipped' ? { prior: await loadModelFrom('public/models/emoji') } : {}),
    judgeView,
  };
}

export async function main(argv: string[]): Promise<number> {
  let a;
  try {
    a = parseArgs(
      argv,
      {
        set: { kind: 'string', choices: ['digit', ...Object.keys(EMOJI_STYLES)] },
        digit: { kind: 'int', min: 0, max: 9 },
        minutes: { kind: 'string' },
        samples: { kind: 'int', min: 8, max: 1000 },
        init: { kind: 'string', choices: ['tiny', 'small', 'shipped'] },
        batch: { kind: 'int', min: 1, max: 256 },
        lr: { kind: 'number', min: 0, max: 0.1 },
        steps: { kind: 'int', min: 1, max: 1_000_000 },
        ema: { kind: 'number', min: 0, max: 0.99999 },
        warmup: { kind: 'int', min: -1, max: 100_000 },
        flip: { kind: 'int', min: -1, max: 1 },
        'min-snr': { kind: 'number', min: -1, max: 1000 },
        base: { kind: 'int', min: 0, max: 256 },
        mults: { kind: 'string' },
        size: { kind: 'int', min: 16, max: 32 },
        seed: { kind: 'int', min: 0, max: 2 ** 31 },
        guidance: { kind: 'string' },
        grids: { kind: 'string' },
        out: { kind: 'string' },
      },
      {
        set: 'digit',
        digit: 3,
        minutes: '2,5,10',
        samples: 64,
        init: DEFAULT_SETUP.init === 'shipped' ? 'tiny' : DEFAULT_SETUP.init,
        batch: DEFAULT_SETUP.batchSize,
        lr: 0, // the page's for the model chosen (defaultLearningRate: its prior's for a fine-tune)
        steps: DEFAULT_SETUP.totalSteps,
        ema: -1,
        warmup: -1,
        flip: -1,
        'min-snr': -1, // the page's (trainConfigFor: Min-SNR-5 for a new model, L_simple for a fine-tune); 0: L_simple
        base: 0,
        mults: '',
        size: EMOJI_SIZE,
        seed: 0,
        guidance: '',
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
  const n = Number(a.samples);
  const colour = a.set !== 'digit';
  const asked = a.guidance === '' ? [] : String(a.guidance).split(',').map(Number);
  if (asked.some((g) => !(g >= 0 && g <= 20))) {
    console.error(`error: --guidance must be scales between 0 and 20, e.g. 1.5,3; got '${a.guidance}'\n${USAGE}`);
    return 2;
  }
  const pictureSize = Number(a.size);
  if (pictureSize !== EMOJI_SIZE && (pictureSize !== EMOJI_SIZE / 2 || !colour || a.init === 'shipped')) {
    console.error(
      `error: --size ${pictureSize}: a new colour model trains at ${EMOJI_SIZE} or ${EMOJI_SIZE / 2} px (a fine-tune at its prior's size)\n${USAGE}`,
    );
    return 2;
  }
  await useNodeBackend('wasm');
  const classifierDir = colour ? EMOJI_CLASSIFIER_DIR : CLASSIFIER_DIR;
  const classifier = await loadClassifier(classifierDir);
  if (!classifier) {
    console.error(`error: no classifier in ${classifierDir} (${colour ? 'npm run eval:emoji' : 'npm run eval'} trains one)`);
    return 2;
  }

  // 1. the data, as a person's upload (bytes; folders named by category for the colour sets)
  const init = String(a.init) as TrainSetup['init'];
  const task = colour
    ? await emojiTask(a.set as EmojiSetName, n, classifier, init, pictureSize)
    : await digitTask(Number(a.digit), n, classifier, init);
  const { dataset, size, channels } = task;
  // a digit set is one class, sampled unguided; a colour set's categories at --guidance's scales, or at the
  // page's: what a fine-tuned model keeps of its prior's own settings, else the page's default
  const guidances = !colour ? [1] : asked.length > 0 ? asked : [pageGuidance(task.prior?.metadata ?? {})];

  // 2. the page's recipe, with the overrides asked for
  const setup = {
    ...DEFAULT_SETUP,
    init,
    batchSize: Number(a.batch),
    learningRate: Number(a.lr) || defaultLearningRate(init, priorFor(size, channels)),
    totalSteps: Number(a.steps),
    ...(Number(a.flip) >= 0 ? { flip: Number(a.flip) === 1 } : {}),
  };
  const trainConfig = {
    ...trainConfigFor(setup),
    ...(Number(a.ema) >= 0 ? { emaDecay: Number(a.ema) } : {}),
    ...(Number(a.warmup) >= 0 ? { warmupSteps: Number(a.warmup) } : {}),
    ...(Number(a['min-snr']) >= 0 ? { minSnrGamma: Number(a['min-snr']) } : {}),
  };
  const prior = task.prior;
  const diffusion = prior?.diffusion ?? DEFAULT_DIFFUSION;
  const dataClasses = dataset.classNames;
  const priorClasses = prior ? classNames(prior.metadata, prior.model.config.numClasses) : [];
  const preset = prior ? prior.model.config : presetConfig(setup.init as 'tiny' | 'small', size, channels, dataClasses.length);
  // --base / --mults try other widths and depths than the preset's (to choose presets by measurement)
  const config = {
    ...preset,
    ...(Number(a.base) > 0 ? { baseChannels: Number(a.base) } : {}),
    ...(a.mults !== '' ? { channelMults: String(a.mults).split(',').map(Number) } : {}),
  } as ModelConfig;
  // the model's label for each sample's asked class: the prior's own index, or the data's folder's
  const modelLabel = (k: number | null): number | null =>
    k === null || config.numClasses === 0 ? null : prior ? k : dataClasses.indexOf(task.categories[k]);
  log(
    `bench:ttq: ${JSON.stringify(task.what)}, ${setup.init} U-Net, batch ${setup.batchSize}, flip ${setup.flip}, ${JSON.stringify(trainConfig)}; marks at ${marks.join(', ')} min; floor FD ${task.floor.toFixed(2)} at N = ${n}${task.others !== undefined ? `; ${n} other pictures of its kind: FD ${task.others.toFixed(2)} (${(task.others / task.floor).toFixed(2)}× floor)` : ''}${task.ceiling !== undefined ? `; the set's own pictures read ${(100 * task.ceiling).toFixed(1)} % right` : ''}`,
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
    {
      batchSize: setup.batchSize,
      totalSteps: setup.totalSteps,
      flip: setup.flip,
      previewEvery: 0,
      checkpointEvery: 1_000_000,
      ...(prior ? { labelMap: priorLabelMap(dataClasses, priorClasses, config.numClasses) } : {}),
    },
    {
      onStep: (result) => {
        const now = performance.now();
        trainingMs += now - lastStepAt;
        lastStepAt = now;
        loss = result.loss;
        if (trainingMs >= marks[nextMark] * 60_000) session.stop();
      },
    },
    prior?.model,
    Number(a.seed),
  );
  prior?.model.dispose();

  // 3. train to each mark, judge, go on
  const results: Mark[] = [];
  while (nextMark < marks.length) {
    lastStepAt = performance.now();
    const reason = await session.run();
    if (reason.kind === 'diverged' || reason.kind === 'error') throw new Error(`training failed: ${reason.message}`);
    const step = session.trainer.step;
    const judged = [];
    for (const guidance of guidances) {
      const images = await generate(session.samplingModel, diffusion, colour ? task.asked.map(modelLabel) : Array<null>(n).fill(null), {
        sampler: 'ddim',
        steps: 50,
        guidance,
        seed: 1000,
        batchSize: 32,
      });
      const read = await classify(classifier, await task.judgeView(images));
      const frechet = frechetDistanceOf(
        task.measured.map((i) => read.features[i]),
        task.realFeatures,
      );
      judged.push({
        guidance,
        recognised: round(task.recognised(read.labels)),
        frechet: round(frechet),
        frechetRatio: round(frechet / task.floor),
      });
      if (a.grids !== '') {
        await mkdir(String(a.grids), { recursive: true });
        const g = grid(images.slice(0, 32), size, channels);
        const scale = guidances.length > 1 ? `-g${guidance}` : '';
        const name = `ttq-${colour ? `${String(a.set)}-` : ''}${setup.init}-${marks[nextMark]}min${scale}.png`;
        await writeFile(join(String(a.grids), name), encodePng(g.pixels, g.width, g.height, channels as 1 | 3));
      }
    }
    const minutes = trainingMs / 60_000;
    const { recognised, frechet, frechetRatio } = judged[0];
    const mark: Mark = {
      minutes: round(minutes),
      step,
      imagesSeen: step * setup.batchSize,
      imagesPerSecond: round((step * setup.batchSize) / (trainingMs / 1000)),
      recognised,
      frechet,
      frechetRatio,
      loss: round(loss),
      ...(judged.length > 1 ? { byGuidance: judged } : {}),
    };
    results.push(mark);
    const each = judged.map(
      (j) =>
        `${guidances.length > 1 ? `g${j.guidance}: ` : ''}recognised ${(100 * j.recognised).toFixed(1)} %, FD ${j.frechet} (${j.frechetRatio}× floor)`,
    );
    log(`  ${minutes.toFixed(1)} min, step ${step} (${mark.imagesPerSecond} img/s): ${each.join('; ')}, loss ${loss.toFixed(4)}`);
    if (reason.kind === 'finished') {
      log(`  the run reached its ${setup.totalSteps} steps before the ${marks[nextMark]}-minute mark`);
      break;
    }
    nextMark++;
  }
  session.dispose();
  task.classifier.dispose();
  const report = {
    machine: { date: new Date().toISOString(), node: process.version, backend: 'wasm (1 thread, SIMD)' },
    data: task.what,
    recipe: { init: setup.init, batchSize: setup.batchSize, totalSteps: setup.totalSteps, flip: setup.flip, config, trainConfig },
    judge: {
      samples: n,
      sampler: `DDIM-50, η = 0, EMA weights${colour ? `, guidance ${guidances.join(' and ')}, the categories in turn (the distance: in the floor's mix)` : ''}`,
      frechetFloor: round(task.floor),
      ...(task.others !== undefined ? { frechetOthers: round(task.others), frechetOthersRatio: round(task.others / task.floor) } : {}),
      ...(task.ceiling !== undefined ? { ceiling: round(task.ceiling) } : {}),
    },
    marks: results,
  };
  const json = `${JSON.stringify(report, null, 2)}\n`;
  if (a.out !== '') await writeFile(String(a.out), json);
  process.stdout.write(json);
  return 0;
}
