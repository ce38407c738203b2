import { lazy, Suspense, useEffect, useMemo, useRef, useState, useSyncExternalStore, type ReactNode } from 'react';
import { noisedValues } from '../diffusion/forward-values';
import { makeSchedule, snr } from '../diffusion/schedule';
import { SeededNormal } from '../diffusion/seeded-normal';
import { fromDisplayStep } from '../diffusion/timestep';
import type { ImageBatch, ModelInfo } from '../protocol';
import type { EngineClient } from './engine-client';
import { ImageCanvas } from './ImageCanvas';
import { decodeUpload, loadExampleDigits, toChannels } from './images';
import { pick } from './pixels';
import type { SamplingChannel } from './sampling-channel';
import { forwardStepFromUrl, writeUrl } from './url-state';
import { SchedulePlot } from './SchedulePlot';

interface Props {
  engine: EngineClient;
  sampling: SamplingChannel;
  model: ModelInfo;
}

/** The drawing pad loads when Draw… opens it. */
const DrawPad = lazy(() => import('./DrawPad').then((m) => ({ default: m.DrawPad })));

/** Training pictures shown as examples, when they fit the model. */
const MAX_EXAMPLES = 20;

/**
 * "Drag a timestep slider": x_t = √ᾱ_t x0 + √(1−ᾱ_t) ε with a fixed ε (eq. 4), computed right here
 * on every slider move — a few thousand multiply-adds, no worker round trip.
 */
export function ForwardPanel({ engine, sampling, model }: Props) {
  const { imageSize: size, inChannels: channels } = model.config;
  const T = model.diffusion.numTrainTimesteps;
  const schedule = useMemo(() => makeSchedule(model.diffusion), [model.diffusion]);
  const [examples, setExamples] = useState<ImageBatch[]>([]);
  const [fromTraining, setFromTraining] = useState(false);
  const [x0, setX0] = useState<ImageBatch | null>(null);
  /** The newest finished run's first sample, offered as x0. */
  const lastSample = useSyncExternalStore(sampling.subscribe, sampling.getLastSample);
  /** The slider shows the paper's step, T … 1, and 0 for the clean image. */
  const [slider, setSlider] = useState(() => forwardStepFromUrl(location.search, T) ?? Math.round(T / 2));
  // the address keeps the slider's t for a link, written once the slider rests (browsers throttle rapid rewrites)
  useEffect(() => {
    const timer = setTimeout(() => writeUrl({ t: String(slider) }), 300);
    return () => clearTimeout(timer);
  }, [slider]);
  const [noiseSeed, setNoiseSeed] = useState(0);
  const [uploadError, setUploadError] = useState<string | null>(null);
  /** The drawing pad is open: its strokes are x0. */
  const [drawing, setDrawing] = useState(false);
  const t = fromDisplayStep(slider, T);

  const noise = useMemo(() => new SeededNormal(noiseSeed).normalArray(size * size * channels), [noiseSeed, size, channels]);
  const xt = useMemo(() => (x0 ? { ...x0, values: noisedValues(schedule, x0.values, noise, t) } : null), [x0, schedule, noise, t]);
  const eps = useMemo(() => ({ values: noise, batch: 1, size, channels }), [noise, size, channels]);

  // the examples: the training set's pictures when they fit the model, else the shipped digits (28×28)
  const picked = useRef(false);
  useEffect(() => {
    let digits: ImageBatch[] = [];
    const off = engine.subscribe('training', (m) => {
      if (m.type !== 'data') return;
      const p = m.summary.preview;
      const fits = p.batch > 0 && p.size === size && p.channels === channels;
      const images = fits ? Array.from({ length: Math.min(MAX_EXAMPLES, p.batch) }, (_, i) => pick(p, i)) : digits;
      setExamples(images);
      setFromTraining(fits);
      if (fits && !picked.current) {
        picked.current = true;
        setX0(images[0]);
      }
    });
    if (size === 28 && !picked.current) {
      loadExampleDigits()
        .then(({ images }) => {
          digits = images.filter((_, i) => i % 10 < 2).map((img) => toChannels(img, channels));
          if (picked.current) return;
          picked.current = true;
          setExamples(digits);
          setX0(digits[0]);
        })
        .catch(() => setUploadError('could not load the example digits; upload a picture instead'));
    }
    return off;
  }, [engine, size, channels]);

  const onUpload = async (file: File | undefined) => {
    if (!file) return;
    setUploadError(null);
    try {
      setX0(await decodeUpload(file, size, channels));
    } catch (e) {
      setUploadError(`${file.name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };

  const ac = t !== null ? schedule.alphasCumprod[t] : 1;
  const rows: [string, ReactNode, string][] = [
    [
      'beta',
      <>
        β<sub>t</sub>
      </>,
      t !== null ? schedule.betas[t].toExponential(3) : '—',
    ],
    [
      'alphaCumprod',
      <>
        ᾱ<sub>t</sub>
      </>,
      ac.toPrecision(4),
    ],
    [
      'signal',
      <>
        √ᾱ<sub>t</sub> (signal)
      </>,
      Math.sqrt(ac).toPrecision(4),
    ],
    [
      'noise',
      <>
        √(1−ᾱ<sub>t</sub>) (noise)
      </>,
      Math.sqrt(1 - ac).toPrecision(4),
    ],
    ['snr', 'SNR = ᾱ/(1−ᾱ)', t !== null ? snr(schedule, t).toPrecision(4) : '∞'],
  ];

  return (
    <section className="panel" aria-labelledby="forward-title">
      <h2 id="forward-title">
        Forward process: drag through q(x<sub>t</sub> | x<sub>0</sub>)
      </h2>
      <p className="hint">
        Any x<sub>t</sub> can be drawn in one go from the clean image: x<sub>t</sub> = √ᾱ<sub>t</sub> x<sub>0</sub> + √(1−ᾱ<sub>t</sub>) ε
        (eq. 4). The noise ε stays fixed while you drag.
      </p>
      <div className="picker" role="group" aria-label="Choose an image">
        {examples.map((img, i) => (
          <ImageCanvas
            key={i}
            image={img}
            displaySize={36}
            // two examples per digit: each its own name
            label={fromTraining ? `training image ${i + 1}` : `example digit ${Math.floor(i / 2)}, ${i % 2 === 0 ? 'first' : 'second'}`}
            onClick={() => setX0(img)}
          />
        ))}
        <button
          type="button"
          disabled={lastSample === null}
          title={lastSample === null ? 'a finished run’s sample can be noised here' : 'noise the last sample the reverse process drew'}
          onClick={() => lastSample && setX0(lastSample)}
          data-testid="forward-last-sample"
        >
          Last sample
        </button>
        <button type="button" aria-pressed={drawing} onClick={() => setDrawing((d) => !d)} data-testid="draw-toggle">
          Draw…
        </button>
        <label className="upload">
          Upload…
          <input
            type="file"
            accept="image/png,image/jpeg,image/webp,image/gif,image/bmp"
            onChange={(e) => {
              void onUpload(e.target.files?.[0]);
              e.target.value = ''; // the same file chosen again is a change too
            }}
            data-testid="upload"
          />
        </label>
      </div>
      {drawing && (
        <Suspense fallback={null}>
          <DrawPad size={size} channels={channels} onDraw={setX0} />
        </Suspense>
      )}
      {uploadError && (
        <p role="alert" className="error">
          {uploadError}
        </p>
      )}
      <label className="slider">
        <span>
          t = <strong data-testid="forward-t">{slider}</strong> / {T}
        </span>
        <input
          type="range"
          min={0}
          max={T}
          value={slider}
          onChange={(e) => setSlider(Number(e.target.value))}
          aria-label="Timestep t"
          data-testid="forward-slider"
        />
      </label>
      <div className="forward-body">
        <figure>
          <ImageCanvas image={x0} displaySize={128} label="clean image x0" />
          <figcaption>
            x<sub>0</sub>
          </figcaption>
        </figure>
        <figure>
          <ImageCanvas image={xt} displaySize={192} label="noised image x_t" testId="forward-xt" />
          <figcaption>
            x<sub>t</sub>
          </figcaption>
        </figure>
        <figure>
          <ImageCanvas image={x0 ? eps : null} range="noise" displaySize={128} label="the noise ε" testId="forward-eps" />
          <figcaption>ε</figcaption>
        </figure>
        <table className="values" aria-label="Schedule values at t">
          <tbody>
            {rows.map(([key, name, v]) => (
              <tr key={key} data-row={key}>
                <th scope="row">{name}</th>
                <td>{v}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="plots">
        <SchedulePlot t={t} numTrainTimesteps={T} quantity="alphaCumprod" />
        <SchedulePlot t={t} numTrainTimesteps={T} quantity="logSnr" />
      </div>
      <div className="controls">
        <button type="button" onClick={() => setNoiseSeed((n) => n + 1)} data-testid="resample-noise">
          Resample noise
        </button>
        <button
          type="button"
          className="primary"
          disabled={!xt || t === null}
          onClick={() => xt && t !== null && sampling.start({ xt: xt.values, t })}
          data-testid="denoise-from-here"
        >
          Denoise from here
        </button>
      </div>
    </section>
  );
}
