import { useEffect, useRef, useState } from 'react';
import type { ImageBatch, ImageCheck, MemorisationResult, ModelInfo, NearestImage, Yardstick } from '../protocol';
import type { EngineClient } from './engine-client';
import { ImageCanvas } from './ImageCanvas';
import { imageOfBytes } from './images';

interface Props {
  engine: EngineClient;
  model: ModelInfo;
  /** The finished run's samples (null until a run has finished). */
  samples: ImageBatch | null;
}

const PHASES = {
  download: 'Loading the training images…',
  features: 'Reading the training images with the digit classifier…',
  yardstick: 'Measuring how close the training images lie to one another…',
} as const;

const fmt = (d: number) => (d === 0 ? '0' : d < 0.01 ? d.toExponential(1) : d.toFixed(2));
const pct = (share: number) => `${Math.round(share * 1000) / 10} %`;

/**
 * "Is it a copy?": each sample's three nearest training images, by pixels and (digits) by the
 * classifier's features, and whether it lies closer to one than the training images lie to each
 * other — the sign of a memorised image. Also checks a picture of the person's own.
 */
export function MemorisationCheck({ engine, model, samples }: Props) {
  const [result, setResult] = useState<MemorisationResult | null>(null);
  const [progress, setProgress] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const request = useRef(0);
  /** What the newest check was about: the run's samples or a picture of the person's. */
  const [subject, setSubject] = useState<'samples' | 'file'>('samples');
  const fileInput = useRef<HTMLInputElement>(null);

  useEffect(
    () =>
      engine.subscribe('memorisation', (m) => {
        if (m.type === 'error') {
          setProgress(null);
          return setError(m.message);
        }
        if (m.request !== request.current) return; // an earlier check's
        if (m.type === 'progress')
          setProgress(
            `${PHASES[m.phase]}${m.phase === 'features' ? ` ${m.done.toLocaleString('en')} / ${m.total.toLocaleString('en')}` : ''}`,
          );
        else {
          setProgress(null);
          setResult(m.result);
        }
      }),
    [engine],
  );

  if (model.source === 'imported' || model.source === 'hub' || model.source === 'random' || model.source === 'example')
    return (
      <section className="memorisation" aria-labelledby="memo-title">
        <h3 id="memo-title">Is it a copy?</h3>
        <p className="muted" data-testid="memo-unavailable">
          {model.source === 'example'
            ? model.config.inChannels === 3
              ? 'This model was trained by tools/torch on the Noto emoji (tools/torch/emoji_data.py fetches them), which the page does not carry, so its samples cannot be compared with them here.'
              : 'This model was trained by tools/torch on pictures the page does not carry (npm run captioned-digits makes them), so its samples cannot be compared with them here.'
            : model.source !== 'random'
              ? `This model came from ${model.source === 'hub' ? 'the Hugging Face Hub' : 'a file'}: the images it was trained on are not here, so its samples cannot be compared with them.`
              : 'The shipped model did not load, so there is no training set to compare with.'}
        </p>
      </section>
    );

  const begin = (what: 'samples' | 'file') => {
    setSubject(what);
    setError(null);
    setResult(null);
    setProgress('Checking…');
    return ++request.current;
  };
  const checkSamples = () => samples && engine.send({ channel: 'memorisation', type: 'check', request: begin('samples'), images: samples });
  const checkFile = (file: File | undefined) => {
    if (fileInput.current) fileInput.current.value = ''; // the same file again is a new check
    if (file) engine.send({ channel: 'memorisation', type: 'checkFile', request: begin('file'), file });
  };

  return (
    <section className="memorisation" aria-labelledby="memo-title" data-testid="memorisation">
      <h3 id="memo-title">Is it a copy?</h3>
      <p className="hint">
        A diffusion model can reproduce its training images instead of drawing new ones, the more so the smaller its data set. This finds
        each sample’s three nearest training images, and compares the distance with how near the training images lie to one another.
      </p>
      <div className="controls">
        <button type="button" disabled={!samples || progress !== null} onClick={checkSamples} data-testid="memo-check">
          {samples && samples.batch > 1 ? `Check the ${samples.batch} samples` : 'Check the sample'}
        </button>
        <label className="upload">
          Check a picture of your own…
          <input
            ref={fileInput}
            type="file"
            accept="image/*"
            disabled={progress !== null}
            onChange={(e) => checkFile(e.target.files?.[0])}
            data-testid="memo-file"
          />
        </label>
        {!samples && <span className="muted">Samples can be checked once a run has finished.</span>}
      </div>
      {progress && (
        <p className="status" role="status" data-testid="memo-progress">
          {progress}
        </p>
      )}
      {error && (
        <p role="alert" className="error" data-testid="memo-error">
          {error}
        </p>
      )}
      {result && <Report result={result} subject={subject} />}
    </section>
  );
}

function Report({ result, subject }: { result: MemorisationResult; subject: 'samples' | 'file' }) {
  const { size, channels } = result;
  return (
    <div data-testid="memo-result">
      <p className="muted" data-testid="memo-yardstick">
        Compared with {result.description}. {describeYardstick(result.yardsticks.pixels, 'pixel distance')}
        {result.yardsticks.features && <> {describeYardstick(result.yardsticks.features, 'classifier-feature distance')}</>}
      </p>
      <ol className="memo-rows">
        {result.checks.map((check, i) => (
          <li key={i} data-testid="memo-row" data-verdict={check.pixels.closeness?.verdict ?? ''}>
            <figure>
              <ImageCanvas image={imageOfBytes(check.query, size, channels)} displaySize={56} label={`checked image ${i + 1}`} />
              <figcaption>{subject === 'file' ? 'your picture' : result.checks.length > 1 ? `sample ${i + 1}` : 'the sample'}</figcaption>
            </figure>
            <div>
              <Neighbours title="nearest by pixels" nearest={check.pixels.nearest} size={size} channels={channels} kind="pixels" />
              {check.features && (
                <Neighbours
                  title="nearest by classifier features"
                  nearest={check.features.nearest}
                  size={size}
                  channels={channels}
                  kind="features"
                />
              )}
              <p className={check.pixels.closeness?.verdict === 'apart' ? 'muted' : 'warning'} data-testid="memo-verdict">
                {verdict(check)}
              </p>
            </div>
          </li>
        ))}
      </ol>
    </div>
  );
}

function Neighbours({
  title,
  nearest,
  size,
  channels,
  kind,
}: {
  title: string;
  nearest: NearestImage[];
  size: number;
  channels: number;
  kind: 'pixels' | 'features';
}) {
  return (
    <figure className="memo-neighbours" data-testid={`memo-${kind}`}>
      <figcaption>{title}</figcaption>
      <ol>
        {nearest.map((n) => (
          <li key={n.index} data-testid="memo-neighbour" data-index={n.index} data-distance={n.distance} data-name={n.name}>
            <ImageCanvas
              image={imageOfBytes(n.pixels, size, channels)}
              displaySize={56}
              label={`training image ${n.index + 1}: ${n.name}, distance ${fmt(n.distance)}`}
            />
            <span title={n.name}>
              #{n.index + 1} {/^\d$/.test(n.name) ? `· a ${n.name}` : `· ${n.name.split('/').pop()}`}
            </span>
            <span>d = {fmt(n.distance)}</span>
          </li>
        ))}
      </ol>
    </figure>
  );
}

function describeYardstick(y: Yardstick, what: string): string {
  return `Training images lie a median ${what} of ${fmt(y.median)} from their nearest neighbour; 10 % lie closer than ${fmt(y.p10)}, 1 % closer than ${fmt(y.p01)} (from ${y.queries} of them).`;
}

/** What the nearest pixel distance says, in words. */
function verdict(check: ImageCheck): string {
  const n = check.pixels.nearest[0];
  const c = check.pixels.closeness;
  const which = `training image #${n.index + 1}`;
  if (!c) return `Nearest: ${which}, at ${fmt(n.distance)}. (One training image gives no yardstick.)`;
  if (n.distance === 0) return `A copy: identical to ${which}.`;
  const share = `only ${pct(c.share)} of training images lie this close to another`;
  if (c.verdict === 'copy') return `A near-copy of ${which}: ${share}. The model has memorised it.`;
  if (c.verdict === 'close') return `Close to ${which}: ${share}. Possibly memorised.`;
  const byFeatures = check.features?.closeness;
  const f = check.features?.nearest[0];
  const alike =
    byFeatures && f && byFeatures.verdict !== 'apart'
      ? ` Its classifier features, though, lie close to training image #${f.index + 1}'s: only ${pct(byFeatures.share)} of training images are as close to another — a shifted or restyled copy?`
      : '';
  return `Not a copy: ${pct(c.share)} of training images lie closer to their own nearest neighbour than this lies to ${which}.${alike}`;
}
