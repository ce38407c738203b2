/**
 * `npm run eval:emoji`: the colour counterpart of `npm run eval` — the emoji category classifier and
 * what it says of a colour model.
 *   npm run eval:emoji -- [--model DIR] [--per-class N] [--sampler dpm-solver++] [--steps 20] [--guidance G] [--seed S]
 *                         [--retrain] [--grids DIR] [--out FILE]
 * 1. The classifier (src/eval/classifier.ts, EMOJI_CLASSIFIER): trained on the emoji the colour prior
 *    trained on (tools/torch/emoji_data.py's .npz, all but the held-out tenth) when
 *    public/models/emoji-classifier has none (or --retrain), then saved there for the page's meter;
 *    its accuracy on the held-out tenth, overall and per category.
 * 2. The Fréchet floor: the distance between the classifier features of the held-out tenth and of as
 *    many training emoji (real against real: what a perfect model would score at this count); and,
 *    beside it, the distance of as many training emoji taken the categories in turn (what real
 *    pictures score when asked for in equal shares, not in the held-out tenth's mix: src/eval/mix.ts).
 * 3. With --model (a class-conditional colour model, e.g. public/models/emoji): N samples per
 *    category, judged — the share the classifier reads as the asked category; and the Fréchet
 *    distance to the held-out tenth (and its ratio to the floor) of samples asked for its emoji's
 *    categories (the held-out tenth's mix: those samples reused, more drawn where a category needs
 *    them), at --guidance or, without it, the page's guidance for the model (its playground.json's,
 *    else the page's default: src/pipeline/defaults.ts pageGuidance). A grid per run in --grids.
 * JSON on stdout (and --out), progress on stderr. Needs the .npz (Python once); npm test does not.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { accuracy, classAccuracy, classify, EMOJI_CLASSIFIER, trainClassifier } from '../src/eval/classifier';
import { frechetDistanceOf } from '../src/eval/frechet';
import { askInMix } from '../src/eval/mix';
import { generate } from '../src/pipeline/generate';
import { pageGuidance, type SamplerName } from '../src/pipeline/defaults';
import { parseArgs, UsageError } from './args';
import { loadClassifier, saveClassifier } from './classifier';
import { sampleGrid } from './digit-pictures';
import { EMOJI_SIZE, loadEmoji } from './emoji';
import { useNodeBackend } from './node-backend';
import { loadModelFrom } from './node-io';
import { encodePng } from './png';

export const EMOJI_CLASSIFIER_DIR = 'public/models/emoji-classifier';
const TRAINING = { epochs: 30, batchSize: 64, seed: 0 };
const USAGE =
  'usage: npm run eval:emoji -- [--model DIR] [--per-class N] [--sampler ddpm|ddim|dpm-solver++] [--steps S] [--guidance G] [--seed S] [--retrain] [--grids DIR] [--out FILE]';
const log = (m: string) => process.stderr.write(`${m}\n`);
const round = (x: number) => Number(x.toPrecision(4));

export async function main(argv: string[]): Promise<number> {
  const retrain = argv.includes('--retrain');
  let a;
  try {
    a = parseArgs(
      argv.filter((arg) => arg !== '--retrain'),
      {
        model: { kind: 'string' },
        'per-class': { kind: 'int', min: 1, max: 1000 },
        sampler: { kind: 'string', choices: ['ddpm', 'ddim', 'dpm-solver++'] },
        steps: { kind: 'int', min: 1, max: 1000 },
        guidance: { kind: 'number', min: 0, max: 20 },
        seed: { kind: 'int', min: 0, max: 2 ** 31 },
        grids: { kind: 'string' },
        out: { kind: 'string' },
      },
      { model: '', 'per-class': 40, sampler: 'dpm-solver++', steps: 20, guidance: '', seed: 0, grids: '', out: '' },
    );
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`error: ${e.message}\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  await useNodeBackend('wasm');
  const data = await loadEmoji();
  const split = (held: boolean) =>
    data.images.map((image, i) => ({ image, label: data.labels[i] })).filter((_, i) => data.heldOut[i] === held);
  const train = split(false);
  const heldOut = split(true);
  const trainLabels = train.map((e) => e.label);
  const heldOutLabels = heldOut.map((e) => e.label);

  // 1. the classifier
  let classifier = retrain ? null : await loadClassifier(EMOJI_CLASSIFIER_DIR);
  const trained = classifier === null;
  if (classifier === null) {
    log(`training the emoji classifier on ${train.length} emoji (${TRAINING.epochs} epochs)`);
    classifier = await trainClassifier(
      train.map((e) => e.image),
      trainLabels,
      {
        ...TRAINING,
        onEpoch: (epoch, loss, s) => log(`  epoch ${epoch + 1}/${TRAINING.epochs}: loss ${loss.toFixed(4)} (${s.toFixed(0)} s)`),
      },
      EMOJI_CLASSIFIER,
    );
  }
  const real = await classify(
    classifier,
    heldOut.map((e) => e.image),
  );
  const heldOutAccuracy = accuracy(real.labels, heldOutLabels);
  // the pictures it learned from, read again: a sample as good as the model's training pictures reads this well
  const seen = await classify(
    classifier,
    train.map((e) => e.image),
  );
  const perCategory = Object.fromEntries(
    data.categories.map((name, k) => [
      name,
      {
        heldOut: heldOutLabels.filter((l) => l === k).length,
        accuracy: round(classAccuracy(real.labels, heldOutLabels, k)),
        trainingAccuracy: round(classAccuracy(seen.labels, trainLabels, k)),
      },
    ]),
  );
  const meanOver = (key: 'accuracy' | 'trainingAccuracy') =>
    data.categories.reduce((sum, name) => sum + (perCategory[name] as Record<typeof key, number>)[key], 0) / data.categories.length;
  const balanced = meanOver('accuracy');
  const trainingBalanced = meanOver('trainingAccuracy');
  if (trained) {
    await saveClassifier(classifier, EMOJI_CLASSIFIER_DIR, {
      trainedOn: `${train.length} Noto emoji at 32×32 (tools/torch/emoji_data.py, the held-out tenth left out)`,
      categories: data.categories,
      ...TRAINING,
      heldOutAccuracy,
      heldOutBalancedAccuracy: balanced,
    });
    log(`saved the classifier to ${EMOJI_CLASSIFIER_DIR}`);
  }
  log(
    `classifier held-out accuracy: ${(100 * heldOutAccuracy).toFixed(1)} % on ${heldOut.length} emoji; the mean over categories ${(100 * balanced).toFixed(1)} %; on its ${train.length} training emoji ${(100 * trainingBalanced).toFixed(1)} % (the mean over categories)`,
  );

  // 2. the floor: held-out against as many training emoji (every 10th, a spread over categories)
  const reference = train.filter((_, i) => i % Math.floor(train.length / heldOut.length) === 0).slice(0, heldOut.length);
  const floor = frechetDistanceOf(
    real.features,
    (
      await classify(
        classifier,
        reference.map((e) => e.image),
      )
    ).features,
  );
  // real pictures asked for in equal shares: the categories in turn, each category's training emoji in order
  const ofCategory = data.categories.map((_, k) => train.filter((e) => e.label === k));
  const inTurn = heldOut.map((_, j) => ofCategory[j % data.categories.length][Math.floor(j / data.categories.length)].image);
  const equalShare = frechetDistanceOf((await classify(classifier, inTurn)).features, real.features);
  log(`real-vs-real Fréchet floor: ${floor.toFixed(3)} (N = ${heldOut.length}); training emoji in equal shares: ${equalShare.toFixed(3)}`);

  // 3. a model's samples
  let samples: Record<string, unknown> | null = null;
  if (a.model !== '') {
    const { model, diffusion, metadata } = await loadModelFrom(String(a.model));
    const guidance = a.guidance === '' ? pageGuidance(metadata) : Number(a.guidance);
    try {
      const c = model.config;
      if (c.imageSize !== EMOJI_SIZE || c.inChannels !== 3 || c.numClasses !== data.categories.length)
        throw new UsageError(`--model must be a 32×32 colour model of the ${data.categories.length} emoji categories`);
      const per = Number(a['per-class']);
      const labels = data.categories.flatMap((_, k) => Array<number>(per).fill(k));
      const mix = askInMix(labels, heldOutLabels);
      const started = performance.now();
      const drawn = await generate(model, diffusion, [...labels, ...mix.extra], {
        sampler: a.sampler as SamplerName,
        steps: Number(a.steps),
        guidance,
        seed: Number(a.seed),
        batchSize: 30,
        onBatch: (done, total) => process.stderr.write(`\r  sampling ${done}/${total}`),
      });
      log('');
      const images = drawn.slice(0, labels.length);
      const all = await classify(classifier, drawn);
      const readAs = all.labels.slice(0, labels.length);
      const right = accuracy(readAs, labels);
      const frechet = frechetDistanceOf(
        mix.pick.map((i) => all.features[i]),
        real.features,
      );
      samples = {
        model: String(a.model),
        sampler: `${String(a.sampler)} ${Number(a.steps)} steps, guidance ${guidance}`,
        perCategory: per,
        categoryRight: round(right),
        categoryRightEach: Object.fromEntries(
          data.categories.map((name, k) => [name, round(readAs.filter((l, i) => labels[i] === k && l === k).length / per)]),
        ),
        frechet: round(frechet),
        frechetRatio: round(frechet / floor),
        frechetSamples: `${heldOut.length}, asked for the held-out tenth's categories (${mix.extra.length} drawn beyond the ${labels.length})`,
        seconds: round((performance.now() - started) / 1000),
      };
      log(`category read right ${(100 * right).toFixed(1)} %; Fréchet ${frechet.toFixed(2)} (${(frechet / floor).toFixed(2)}× floor)`);
      if (a.grids !== '') {
        await mkdir(String(a.grids), { recursive: true });
        const g = sampleGrid(images, labels, Math.min(per, 16), data.categories.length, EMOJI_SIZE, 3);
        const path = join(String(a.grids), `emoji-${String(a.sampler)}${Number(a.steps)}-g${guidance}.png`);
        await writeFile(path, encodePng(g.pixels, g.width, g.height, 3));
        log(`wrote ${path} (a row per category, in categories.txt's order)`);
      }
    } finally {
      model.dispose();
    }
  }
  classifier.dispose();
  const report = {
    date: new Date().toISOString(),
    classifier: {
      heldOutAccuracy: round(heldOutAccuracy),
      heldOutBalancedAccuracy: round(balanced),
      trainingBalancedAccuracy: round(trainingBalanced),
      heldOut: heldOut.length,
      perCategory,
      trainedNow: trained,
    },
    frechetFloor: round(floor),
    frechetEqualShares: round(equalShare),
    ...(samples ? { samples } : {}),
  };
  const json = `${JSON.stringify(report, null, 2)}\n`;
  if (a.out !== '') await writeFile(String(a.out), json);
  process.stdout.write(json);
  return 0;
}
