import { useEffect, useState } from 'react';
import type { ModelInfo } from '../protocol';
import type { EngineClient } from './engine-client';

interface Props {
  engine: EngineClient;
  /** The model the panels run on now. */
  active: ModelInfo;
}

const describe = (m: ModelInfo) =>
  m.source === 'trained'
    ? 'the model trained here'
    : m.source === 'imported'
      ? 'an imported model'
      : m.source === 'random'
        ? 'an untrained model'
        : 'the shipped digits model';

/** Which model every panel runs on, and the 'models' channel: use the trained one, go back, export, import. */
export function ModelBar({ engine, active }: Props) {
  const [trained, setTrained] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(
    () =>
      engine.subscribe('models', (m) => {
        if (m.type === 'trained') setTrained(m.available);
        else if (m.type === 'active') setError(null);
        else if (m.type === 'error') setError(m.message);
        else if (m.type === 'file') {
          const url = URL.createObjectURL(new Blob([m.data], { type: 'application/octet-stream' }));
          Object.assign(document.createElement('a'), { href: url, download: m.name }).click();
          setTimeout(() => URL.revokeObjectURL(url), 10_000);
        }
      }),
    [engine],
  );

  const send = (request: { type: 'use'; which: 'trained' | 'shipped' } | { type: 'export' } | { type: 'import'; files: File[] }) => {
    setError(null);
    engine.send({ channel: 'models', ...request });
  };

  return (
    <section className="model-bar" aria-label="Model">
      <p className="muted" data-testid="active-model">
        The panels run on {describe(active)} ({active.config.imageSize}×{active.config.imageSize}
        {active.config.inChannels === 3 ? ' RGB' : ' grey'}, {(active.numParams / 1e6).toFixed(2)}M parameters).
      </p>
      <div className="controls">
        <button
          type="button"
          className="primary"
          disabled={!trained}
          onClick={() => send({ type: 'use', which: 'trained' })}
          data-testid="use-trained"
        >
          Use the trained model
        </button>
        <button
          type="button"
          disabled={active.source === 'shipped' || active.source === 'random'}
          onClick={() => send({ type: 'use', which: 'shipped' })}
          data-testid="use-shipped"
        >
          Back to the shipped model
        </button>
        <button type="button" disabled={!trained} onClick={() => send({ type: 'export' })} data-testid="export-model">
          Export model (.ddpm)
        </button>
        <label className="upload">
          Import model…
          <input
            type="file"
            multiple
            accept=".ddpm,.json,.bin"
            onChange={(e) => {
              const files = Array.from(e.target.files ?? []);
              e.target.value = '';
              if (files.length) send({ type: 'import', files });
            }}
            data-testid="import-model"
          />
        </label>
      </div>
      {error && (
        <p role="alert" className="error" data-testid="model-error">
          {error}
        </p>
      )}
    </section>
  );
}
