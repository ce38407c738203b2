import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { makeSchedule } from '../diffusion/schedule';
import type { ImageBatch, ModelInfo } from '../worker/protocol';
import type { EngineClient } from './engine-client';
import { ImageCanvas } from './ImageCanvas';
import { decodeUpload, loadExampleDigits, toChannels } from './images';
import { SchedulePlot } from './SchedulePlot';

interface Props {
  engine: EngineClient;
  model: ModelInfo;
  /** Pictures of the model's size to pick from (the training set's); the shipped digits otherwise. */
  examples: ImageBatch[];
  onDenoiseFromHere: () => void;
}

/** "Drag a timestep slider": x_t = √ᾱ_t x0 + √(1−ᾱ_t) ε with a fixed ε (eq. 4). */
export function ForwardPanel({ engine, model, examples: given, onDenoiseFromHere }: Props) {
  const { imageSize: size, inChannels: channels } = model.config;
  const T = model.diffusion.numTrainTimesteps;
  const schedule = useMemo(() => makeSchedule(model.diffusion), [model.diffusion]);
  const [examples, setExamples] = useState<ImageBatch[]>([]);
  const [x0, setX0] = useState<ImageBatch | null>(null);
  const [slider, setSlider] = useState(Math.round(T / 2));
  const [view, setView] = useState<{ xt: ImageBatch; noise: ImageBatch } | null>(null);
  const [uploadError, setUploadError] = useState<string | null>(null);
  const noiseSeed = useRef(0);
  // one request in flight at a time; the newest slider value wins
  const inFlight = useRef(false);
  const pending = useRef<number | null>(null);

  const request = useCallback(
    (v: number) => {
      if (inFlight.current) {
        pending.current = v;
        return;
      }
      inFlight.current = true;
      engine.send({ type: 'forwardAt', t: v - 1 });
    },
    [engine],
  );

  useEffect(
    () =>
      engine.subscribe((m) => {
        if (m.type !== 'forwardFrame') return;
        setView({ xt: m.xt, noise: m.noise });
        inFlight.current = false;
        if (pending.current !== null) {
          const v = pending.current;
          pending.current = null;
          request(v);
        }
      }),
    [engine, request],
  );

  const choose = (img: ImageBatch) => {
    setX0(img);
    engine.send({ type: 'forwardImage', image: { ...img, values: img.values.slice() } });
    request(slider);
  };

  // The example strip is picked when the panel opens and when the image size changes, not on every
  // render: `given` is a fresh array each time and `choose` reads the slider, so read their latest.
  const latest = useRef({ given, choose });
  useEffect(() => {
    latest.current = { given, choose };
  });
  useEffect(() => {
    const { given, choose } = latest.current;
    if (given.length > 0) {
      setExamples(given);
      choose(given[0]);
      return;
    }
    if (size !== 28) return;
    loadExampleDigits()
      .then(({ images }) => {
        const picks = images.filter((_, i) => i % 10 < 2).map((img) => toChannels(img, channels));
        setExamples(picks);
        latest.current.choose(picks[0]);
      })
      .catch(() => setUploadError('could not load the example digits; upload a picture instead'));
  }, [size, channels]);

  const onUpload = async (file: File | undefined) => {
    if (!file) return;
    setUploadError(null);
    try {
      choose(await decodeUpload(file, size, channels));
    } catch (e) {
      setUploadError(`${file.name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };

  const t = slider - 1; // 0-based; −1 is the clean image
  const ac = t >= 0 ? schedule.alphasCumprod[t] : 1;
  const rows: [string, string][] = [
    ['β_t', t >= 0 ? schedule.betas[t].toExponential(3) : '—'],
    ['ᾱ_t', ac.toPrecision(4)],
    ['√ᾱ_t (signal)', Math.sqrt(ac).toPrecision(4)],
    ['√(1−ᾱ_t) (noise)', Math.sqrt(1 - ac).toPrecision(4)],
    ['SNR = ᾱ/(1−ᾱ)', t >= 0 ? (ac / (1 - ac)).toPrecision(4) : '∞'],
  ];

  return (
    <section className="panel" aria-labelledby="forward-title">
      <h2 id="forward-title">Forward process: drag through q(x_t | x_0)</h2>
      <p className="hint">
        Any x<sub>t</sub> can be drawn in one go from the clean image: x<sub>t</sub> = √ᾱ<sub>t</sub> x<sub>0</sub> + √(1−ᾱ<sub>t</sub>) ε (eq. 4). The noise ε stays fixed while you drag.
      </p>
      <div className="picker" role="group" aria-label="Choose an image">
        {examples.map((img, i) => (
          <ImageCanvas key={i} image={img} displaySize={36} label={given.length ? `training image ${i + 1}` : `example digit ${Math.floor(i / 2)}`} onClick={() => choose(img)} />
        ))}
        <label className="upload">
          Upload…
          <input type="file" accept="image/png,image/jpeg,image/webp,image/gif,image/bmp" onChange={(e) => void onUpload(e.target.files?.[0])} data-testid="upload" />
        </label>
      </div>
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
          onChange={(e) => {
            const v = Number(e.target.value);
            setSlider(v);
            request(v);
          }}
          aria-label="Timestep t"
          data-testid="forward-slider"
        />
      </label>
      <div className="forward-body">
        <figure>
          <ImageCanvas image={x0} displaySize={128} label="clean image x0" />
          <figcaption>x<sub>0</sub></figcaption>
        </figure>
        <figure>
          <ImageCanvas image={view?.xt ?? null} displaySize={192} label="noised image x_t" testId="forward-xt" />
          <figcaption>x<sub>t</sub></figcaption>
        </figure>
        <figure>
          <ImageCanvas image={view?.noise ?? null} range="noise" displaySize={128} label="the noise ε" testId="forward-eps" />
          <figcaption>ε</figcaption>
        </figure>
        <table className="values" aria-label="Schedule values at t">
          <tbody>
            {rows.map(([k, v]) => (
              <tr key={k}>
                <th scope="row">{k}</th>
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
        <button
          type="button"
          onClick={() => {
            engine.send({ type: 'forwardNoise', seed: ++noiseSeed.current });
            request(slider);
          }}
          data-testid="resample-noise"
        >
          Resample noise
        </button>
        <button type="button" className="primary" disabled={!x0 || slider === 0} onClick={onDenoiseFromHere} data-testid="denoise-from-here">
          Denoise from here
        </button>
      </div>
    </section>
  );
}
