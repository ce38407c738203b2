import { useEffect, useState } from 'react';
import type { BackendReport } from '../engine/backend';
import { EngineClient } from './engine-client';

export function App() {
  const [report, setReport] = useState<BackendReport | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    const engine = new EngineClient();
    const unsubscribe = engine.subscribe((m) => {
      if (m.type === 'ready') setReport(m.report);
      else if (m.type === 'error') setError(m.message);
    });
    engine.send({ type: 'init' });
    return () => {
      unsubscribe();
      engine.terminate();
    };
  }, []);

  return (
    <main>
      <header>
        <h1>DDPM Playground</h1>
        <p>Denoising diffusion (Ho et al. 2020), running in your browser.</p>
      </header>
      <section aria-live="polite" data-testid="backend">
        {error ? <p role="alert">Engine error: {error}</p> : report ? <p>Running on <strong>{report.backend}</strong>{report.adapter ? ` (${report.adapter})` : ''}</p> : <p>Starting the engine…</p>}
      </section>
    </main>
  );
}
