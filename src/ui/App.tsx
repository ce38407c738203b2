import { useEffect, useMemo, useState } from 'react';
import type { BackendReport } from '../engine/backend';
import type { ModelInfo } from '../protocol';
import { EngineClient } from './engine-client';
import { ForwardPanel } from './ForwardPanel';
import { ModelBar } from './ModelBar';
import { ReversePanel, type Warmup } from './reverse/ReversePanel';
import { SamplingChannel } from './sampling-channel';
import { TrainPanel } from './train/TrainPanel';

/** A person who asked for less motion gets no run started for them on open. */
const reducedMotion = () => window.matchMedia('(prefers-reduced-motion: reduce)').matches;

export function App() {
  const [engine, setEngine] = useState<EngineClient | null>(null);
  const [report, setReport] = useState<BackendReport | null>(null);
  /** The model the panels run on, and how many times it changed (the panels start afresh with each). */
  const [active, setActive] = useState<{ model: ModelInfo; version: number } | null>(null);
  const [warning, setWarning] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  /** WebGPU: the GPU kernel warm-up in progress (null when none). */
  const [warmup, setWarmup] = useState<Warmup | null>(null);

  useEffect(() => {
    const client = new EngineClient();
    const offEngine = client.subscribe('engine', (m) => {
      if (m.type === 'ready') {
        setReport(m.report);
        setWarning(m.warning ?? null);
      } else if (m.type === 'warmup') setWarmup(m.finished ? null : { done: m.done, total: m.total });
      else setError(m.message);
    });
    const offModels = client.subscribe('models', (m) => {
      if (m.type === 'active') setActive((a) => ({ model: m.model, version: (a?.version ?? 0) + 1 }));
    });
    const backend = new URLSearchParams(location.search).get('backend') ?? undefined;
    const url = (path: string) => new URL(path, document.baseURI).href;
    client.send({
      channel: 'engine',
      type: 'init',
      modelUrl: url('models/mnist/model.json'),
      classifierUrl: url('models/digit-classifier/model.json'),
      emojiClassifierUrl: url('models/emoji-classifier/model.json'),
      trainDigitsUrl: url('data/train-digits.json'),
      colourPriorUrl: url('models/emoji/'),
      backend,
    });
    setEngine(client);
    return () => {
      offEngine();
      offModels();
      client.terminate();
    };
  }, []);

  const model = active?.model ?? null;
  // one set of sampling settings per model, shared by both panels
  const sampling = useMemo(() => (engine && model ? new SamplingChannel(engine, model) : null), [engine, model]);

  return (
    <main>
      <header className="top">
        <div>
          <h1>DDPM Playground</h1>
          <p className="muted">
            Denoising diffusion probabilistic models (Ho et al. 2020), running in your browser. Watch noise become a digit, drag through the
            forward process, or{' '}
            <a href="#train-title" data-testid="to-training">
              train a model on your own pictures ↓
            </a>
          </p>
        </div>
        <div className="badge" data-testid="backend" aria-live="polite">
          {report ? (
            <>
              <strong>{report.backend}</strong>
              {report.adapter ? ` · ${report.adapter}` : ''}
              {report.threads !== null && (
                <span data-testid="threads" title={report.threadsNote ?? undefined}>
                  {` · ${report.threads} ${report.threads === 1 ? 'thread' : 'threads'}`}
                </span>
              )}
              {model ? ` · ${(model.numParams / 1e6).toFixed(2)}M-param U-Net${model.source === 'random' ? ' (untrained)' : ''}` : ''}
            </>
          ) : (
            'Starting the engine…'
          )}
        </div>
      </header>
      {error && (
        <p role="alert" className="error" data-testid="error">
          {error}
        </p>
      )}
      {report && report.notices.length > 0 && (
        <ul role="status" className="warning" data-testid="backend-notices">
          {report.notices.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      )}
      {report && Object.keys(report.skipped).length > 0 && (
        <details className="muted note" data-testid="backend-why">
          <summary>Why {report.backend}?</summary>
          <ul>
            {Object.entries(report.skipped).map(([name, why]) => (
              <li key={name}>
                <strong>{name}</strong>: {why}
              </li>
            ))}
          </ul>
        </details>
      )}
      {report?.threadsNote && (
        <p className="muted note" data-testid="threads-note">
          WebAssembly runs one thread: {report.threadsNote}.
        </p>
      )}
      {warning && (
        <p role="status" className="warning">
          {warning}
        </p>
      )}
      {engine && active && sampling && report && (
        <>
          <ModelBar engine={engine} active={active.model} />
          <div className="panels">
            <ReversePanel
              key={`r${active.version}`}
              engine={engine}
              sampling={sampling}
              model={active.model}
              warmup={warmup}
              autoStart={active.version === 1 && active.model.source === 'shipped' && !reducedMotion()}
            />
            <ForwardPanel key={`f${active.version}`} engine={engine} sampling={sampling} model={active.model} />
          </div>
          <TrainPanel engine={engine} />
        </>
      )}
    </main>
  );
}
