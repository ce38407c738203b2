import { useEffect, useState } from 'react';
import type { BackendReport } from '../engine/backend';
import type { ModelInfo } from '../worker/protocol';
import { EngineClient } from './engine-client';
import { ForwardPanel } from './ForwardPanel';
import { ReversePanel } from './ReversePanel';

export function App() {
  const [engine, setEngine] = useState<EngineClient | null>(null);
  const [report, setReport] = useState<BackendReport | null>(null);
  const [model, setModel] = useState<ModelInfo | null>(null);
  const [warning, setWarning] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [denoiseRequest, setDenoiseRequest] = useState(0);

  useEffect(() => {
    const client = new EngineClient();
    const unsubscribe = client.subscribe((m) => {
      if (m.type === 'ready') {
        setReport(m.report);
        setModel(m.model);
        setWarning(m.warning ?? null);
      } else if (m.type === 'error') setError(m.message);
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
      {warning && (
        <p role="status" className="warning">
          {warning}
        </p>
      )}
      {engine && model && (
        <div className="panels">
          <ReversePanel engine={engine} model={model} denoiseRequest={denoiseRequest} />
          <ForwardPanel engine={engine} model={model} onDenoiseFromHere={() => setDenoiseRequest((n) => n + 1)} />
        </div>
      )}
    </main>
  );
}
