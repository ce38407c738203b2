/**
 * Sample-quality report:
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
 * <grids>/samples-<setting>.png (default samples/eval/, outside the repository's pictures; --grids docs refreshes
 * the quality report's; one row per label, its first 10 samples).
 *   npm run eval -- --model public/models/captioned-digits [--per-prompt N] [--settings dpm20] …
 * A text model is judged on prompt adherence instead (scripts/eval-prompts.ts): N samples for each of
 * 60 prompts, the share whose digit, size and place are the prompt's, next to the same reading of the
 * data set's own pictures of held-out digits (the ceiling); its grid has one row per prompt.
 */
import { SAMPLING_DEFAULTS } from '../src/pipeline/defaults';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { firstPerClass, HELD_OUT_PER_CLASS } from '../src/data/mnist-split';
import { frechetDistanceOf } from '../src/eval/frechet';
import type { LoadedModel } from '../src/model/io';
import { generate } from '../src/pipeline/generate';
import { parseCliArgs, UsageError } from './args';
import { accuracy, classify, trainClassifier } from '../src/eval/classifier';
import { CLASSIFIER_DIR, loadClassifier, saveClassifier } from './classifier';
import { loadMnist, toSignedRange } from './mnist';
import { NODE_BACKENDS, useCliBackend, type NodeBackendName } from './node-backend';
import { loadModelFrom } from './node-io';
import { encodePng } from './png';
import { readSamples, sampleGrid } from './digit-pictures';
import { parseSettings, type Setting } from './eval-settings';
import { adherence, dataCeiling, PROMPT_LAYOUTS, promptFor } from './eval-prompts';
import { isTextUNet } from '../src/model/config';

const USAGE =
  'usage: npm run eval -- [--model DIR] [--per-label N | --per-prompt N (a text model)] [--settings ddpm,ddim<K>[-eta<E>],dpm<K>,…] [--guidance W,…] [--seed S] [--batch B] [--grids DIR] [--out FILE] [--retrain] [--backend wasm|cpu|webgpu]\n' +
  '       npm run eval -- --samples DIR [--grids DIR] [--out FILE] [--retrain] [--backend B]   (scores <label>_<index>.png pictures made elsewhere)';
const CLASSES = 10;
const CLASSIFIER_TRAINING = { epochs: 10, batchSize: 64, seed: 0 };
const GRID_COLUMNS = 10;

const round = (x: number, digits: number) => Number(x.toFixed(digits));

/** Options that choose how samples are generated, so meaningless with --samples. */
const GENERATION_OPTIONS = ['--model', '--per-label', '--per-prompt', '--settings', '--guidance', '--seed', '--batch'];

export async function main(argv: string[]): Promise<number> {
  const retrain = argv.includes('--retrain');
  const a = parseCliArgs(
    argv.filter((arg) => arg !== '--retrain'),
    {
      model: { kind: 'string' },
      'per-label': { kind: 'int', min: 1, max: 100000 },
      'per-prompt': { kind: 'int', min: 1, max: 100000 },
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
      'per-prompt': 7,
      settings: 'ddpm,ddim50',
      guidance: String(SAMPLING_DEFAULTS.guidance),
      seed: 0,
      batch: 50,
      samples: '',
      grids: 'samples/eval',
      out: '',
      backend: 'wasm',
    },
    USAGE,
    (args) => {
      const clash = GENERATION_OPTIONS.find((o) => argv.includes(o));
      if (args.samples !== '' && clash)
        throw new UsageError(`--samples scores pictures already made; ${clash} (how to make them) does not apply`);
    },
  );
  if (a === 'help') return 0;
  if (!a) return 2;
  const backend = await useCliBackend(a.backend as NodeBackendName);
  if (backend === null) return 2;
  let given: { images: Float32Array[]; labels: number[] } | null = null;
  let generator: (LoadedModel & { settings: Setting[] }) | null = null;
  try {
    if (a.samples !== '') given = await readSamples(String(a.samples));
    else {
      generator = { ...(await loadModelFrom(String(a.model))), settings: [] };
      const { model, diffusion } = generator;
      if (model.config.numClasses !== CLASSES && !isTextUNet(model.config))
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

  /** One setting's samples: a label (or, for a text model, a prompt) per image, with progress on stderr. */
  const samplesOf = (s: Setting, labels: (number | null)[], prompts?: string[]) => {
    const started = performance.now();
    return generate(generator!.model, generator!.diffusion, labels, {
      sampler: s.sampler,
      steps: s.steps,
      eta: s.eta,
      guidance: s.guidance,
      seed: Number(a.seed),
      batchSize: Number(a.batch),
      prompts,
      onBatch: (done, total) =>
        process.stderr.write(`\r[${s.name}] ${done}/${total} samples, ${((performance.now() - started) / 1000).toFixed(0)} s`),
    });
  };

  const results = [];
  let ceiling = null;
  if (generator !== null && isTextUNet(generator.model.config)) {
    const { model } = generator;
    const canvas = model.config.imageSize;
    const perPrompt = Number(a['per-prompt']);
    const asked = PROMPT_LAYOUTS.flatMap((l) => new Array<typeof l>(perPrompt).fill(l));
    ceiling = await dataCeiling(classifier, heldOut, canvas, perPrompt);
    process.stderr.write(`data ceiling (the data set's own pictures, held-out digits): all right ${(100 * ceiling.all).toFixed(1)}%\n`);
    for (const s of generator.settings) {
      const started = performance.now();
      const images = await samplesOf(s, new Array<null>(asked.length).fill(null), asked.map(promptFor));
      process.stderr.write('\n');
      const judged = await adherence(classifier, images, asked, canvas);
      const grid = sampleGrid(
        images,
        asked.map((_, i) => Math.floor(i / perPrompt)),
        Math.min(perPrompt, GRID_COLUMNS),
        PROMPT_LAYOUTS.length,
        canvas,
      );
      const gridPath = join(String(a.grids), `prompts-${s.name}.png`);
      await mkdir(String(a.grids), { recursive: true });
      await writeFile(gridPath, encodePng(grid.pixels, grid.width, grid.height, 1));
      process.stderr.write(
        `[${s.name}] digit ${(100 * judged.digit).toFixed(1)}%, size ${(100 * judged.size).toFixed(1)}%, place ${(100 * judged.place).toFixed(1)}%, all three ${(100 * judged.all).toFixed(1)}%\n`,
      );
      results.push({ ...s, ...judged, grid: gridPath, seconds: round((performance.now() - started) / 1000, 1) });
    }
    generator.model.dispose();
  } else if (given !== null) {
    const name = basename(resolve(String(a.samples)));
    results.push({ name, source: String(a.samples), ...(await judge(name, given.images, given.labels)) });
  } else if (generator !== null) {
    const perLabel = Number(a['per-label']);
    const labels = Array.from({ length: CLASSES * perLabel }, (_, i) => Math.floor(i / perLabel));
    for (const s of generator.settings) {
      const started = performance.now();
      const images = await samplesOf(s, labels);
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
      ? {
          model: { path: String(a.model), metadata: generator.metadata },
          ...(ceiling
            ? { perPrompt: Number(a['per-prompt']), prompts: PROMPT_LAYOUTS.map(promptFor), dataCeiling: ceiling }
            : { perLabel: Number(a['per-label']) }),
          seed: Number(a.seed),
        }
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
