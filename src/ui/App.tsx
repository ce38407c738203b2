import { useEffect, useState } from 'react';
import type { BackendReport } from '../engine/backend';
import type { ImageBatch, ModelInfo } from '../worker/protocol';
import { EngineClient } from './engine-client';
import { ForwardPanel } from './ForwardPanel';
import { pick } from './pixels';
import { ReversePanel, type Warmup } from './ReversePanel';
import { TrainPanel } from './TrainPanel';

export function App() {
  const [engine, setEngine] = useState<EngineClient | null>(null);
  const [report, setReport] = useState<BackendReport | null>(null);
  const [model, setModel] = useState<ModelInfo | null>(null);
  const [warning, setWarning] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [denoiseRequest, setDenoiseRequest] = useState(0);
  /** Bumped when the panels' model changes, so they start afresh with its size and classes. */
  const [modelVersion, setModelVersion] = useState(0);
  const [dataPreview, setDataPreview] = useState<ImageBatch | null>(null);
  /** WebGPU: the GPU kernel warm-up in progress (null when none). */
  const [warmup, setWarmup] = useState<Warmup | null>(null);

  useEffect(() => {
    const client = new EngineClient();
    const unsubscribe = client.subscribe((m) => {
      if (m.type === 'ready') {
        setReport(m.report);
        setModel(m.model);
        setWarning(m.warning ?? null);
      } else if (m.type === 'model') {
        setModel(m.model);
        setModelVersion((v) => v + 1);
      } else if (m.type === 'warmup') setWarmup(m.finished ? null : { done: m.done, total: m.total });
      else if (m.type === 'data') setDataPreview(m.summary.preview);
      else if (m.type === 'error') setError(m.message);
    });
    const preferred = new URLSearchParams(location.search).get('backend') ?? undefined;
    client.send({ type: 'init', modelUrl: new URL('models/mnist/model.json', document.baseURI).href, preferredBackend: preferred as never });
    setEngine(client);
    return () => {
      unsubscribe();
      client.terminate();
    };
  }, []);

  return (
    <main>
      <header className="top">
        <div>
          <h1>DDPM Playground</h1>
          <p className="muted">Denoising diffusion probabilistic models (Ho et al. 2020), running in your browser.</p>
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
      {engine && model && (
        <>
          <div className="panels">
            <ReversePanel key={`r${modelVersion}`} engine={engine} model={model} denoiseRequest={denoiseRequest} warmup={warmup} />
            <ForwardPanel key={`f${modelVersion}`} engine={engine} model={model} examples={fitting(dataPreview, model)} onDenoiseFromHere={() => setDenoiseRequest((n) => n + 1)} />
          </div>
          <TrainPanel engine={engine} active={model} />
        </>
      )}
    </main>
  );
}

/** Up to 20 training pictures as forward-process examples, when they fit the model. */
function fitting(preview: ImageBatch | null, model: ModelInfo): ImageBatch[] {
  if (!preview || preview.size !== model.config.imageSize || preview.channels !== model.config.inChannels) return [];
  return Array.from({ length: Math.min(20, preview.batch) }, (_, i) => pick(preview, i));
}
