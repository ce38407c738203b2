import { useEffect, useRef, useState, type ChangeEvent } from 'react';
import { hubModelFromUrl, writeModelParam } from './url-state';
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
      : m.source === 'hub'
        ? `${typeof m.metadata.source === 'string' ? m.metadata.source : 'a model'} from the Hugging Face Hub`
        : m.source === 'random'
          ? 'an untrained model'
          : m.source === 'example'
            ? `the shipped ${SHIPPED[exampleName(m)].title}`
            : 'the shipped digits model';

/** The other models shipped with the page, by their name in the address (?model=emoji): the text-to-image one and the emoji (a diffusers folder). */
const SHIPPED = {
  'captioned-digits': {
    path: 'models/captioned-digits/model.json',
    title: 'text-to-image model (captioned digits)',
    button: 'Text to image',
    hint: 'a model that takes a text prompt: type where and how big the digit should be',
    testId: 'use-text-model',
  },
  emoji: {
    path: 'models/emoji/',
    title: 'emoji model (32 px colour)',
    button: 'Emoji, 32 px colour',
    hint: 'a diffusers UNet2DModel trained on the Noto emoji, 32×32 colour, by category',
    testId: 'use-emoji-model',
  },
} as const;
type ShippedName = keyof typeof SHIPPED;
const exampleName = (m: ModelInfo): ShippedName => ('kind' in m.config && m.config.kind === 'text-unet' ? 'captioned-digits' : 'emoji');
const openShipped = (engine: EngineClient, name: ShippedName) =>
  engine.send({ channel: 'models', type: 'example', url: new URL(SHIPPED[name].path, document.baseURI).href });

/** The hub address: ?hub= in the page's address (a mirror, a test server), else the Hugging Face Hub. */
const hubEndpoint = () => new URLSearchParams(location.search).get('hub') ?? 'https://huggingface.co';

/** Wide enough to show the model choices unfolded. */
const WIDE = '(min-width: 700px)';

/** A hub download in progress. */
interface Download {
  repo: string;
  file: string;
  loaded: number;
  total: number | null;
}
const MB = 1024 ** 2;

/** Which model every panel runs on, and the 'models' channel: use the trained one, go back, export, import. */
export function ModelBar({ engine, active }: Props) {
  const [trained, setTrained] = useState(false);
  /** The trained model is a UNet2DModel (fine-tuned from the emoji model): it exports as a diffusers folder too. */
  const [trainedDiffusers, setTrainedDiffusers] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [download, setDownload] = useState<Download | null>(null);
  // on a phone the choices fold away, so the first screen shows the run (issue 26, item 14)
  const [open, setOpen] = useState(() => matchMedia(WIDE).matches);
  // read before the first 'active' message rewrites the address
  const linked = useRef(hubModelFromUrl(location.search));
  const linkedShipped = useRef(new URLSearchParams(location.search).get('model'));
  const [repo, setRepo] = useState(linked.current?.repo ?? 'google/ddpm-cifar10-32');
  const [revision, setRevision] = useState(linked.current?.revision ?? '');

  useEffect(
    () =>
      engine.subscribe('models', (m) => {
        if (m.type === 'trained') {
          setTrained(m.available);
          setTrainedDiffusers(m.diffusers);
        } else if (m.type === 'active') {
          setError(null);
          // the address names a hub model or the text model, so a link opens it again
          writeModelParam(
            m.model.source === 'hub' && typeof m.model.metadata.source === 'string'
              ? m.model.metadata.source
              : m.model.source === 'example'
                ? exampleName(m.model)
                : null,
          );
        } else if (m.type === 'error') {
          setError(m.message);
          setDownload(null);
        } else if (m.type === 'download') setDownload(m.finished ? null : { repo: m.repo, file: m.file, loaded: m.loaded, total: m.total });
        else if (m.type === 'file') {
          const url = URL.createObjectURL(new Blob([m.data], { type: 'application/octet-stream' }));
          Object.assign(document.createElement('a'), { href: url, download: m.name }).click();
          setTimeout(() => URL.revokeObjectURL(url), 10_000);
        }
      }),
    [engine],
  );

  const send = (
    request:
      | { type: 'use'; which: 'trained' | 'shipped' }
      | { type: 'export'; format: 'ddpm' | 'diffusers' }
      | { type: 'import'; files: File[] }
      | { type: 'hub'; repo: string; revision: string; endpoint: string }
      | { type: 'cancelDownload' },
  ) => {
    setError(null);
    engine.send({ channel: 'models', ...request });
  };

  // a link to a hub model, or to a shipped one, opens it (once)
  useEffect(() => {
    const name = linkedShipped.current;
    linkedShipped.current = null;
    if (name !== null && name in SHIPPED) {
      openShipped(engine, name as ShippedName);
      return;
    }
    const link = linked.current;
    if (!link) return;
    linked.current = null;
    setDownload({ repo: link.repo, file: '', loaded: 0, total: null });
    engine.send({ channel: 'models', type: 'hub', ...link, endpoint: hubEndpoint() });
  }, [engine]);

  const importChosen = (e: ChangeEvent<HTMLInputElement>) => {
    const files = Array.from(e.target.files ?? []);
    e.target.value = ''; // the same file can be chosen again
    if (files.length) send({ type: 'import', files });
  };

  return (
    <section className="model-bar" aria-label="Model">
      <p className="muted" data-testid="active-model">
        The panels run on {describe(active)} ({active.config.imageSize}×{active.config.imageSize}
        {active.config.inChannels === 3 ? ' RGB' : ' grey'}, {(active.numParams / 1e6).toFixed(2)}M parameters).
      </p>
      <details className="model-choices" open={open || download !== null} onToggle={(e) => setOpen(e.currentTarget.open)}>
        <summary>Other models: your trained one, text to image, emoji in colour, a file, the Hugging Face Hub</summary>
        <div className="controls">
          <button
            type="button"
            // the one thing to do once a model is trained, and only while it is not yet in use
            className={trained && active.source !== 'trained' ? 'primary' : undefined}
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
          {(Object.keys(SHIPPED) as ShippedName[]).map((name) => (
            <button
              key={name}
              type="button"
              disabled={active.source === 'example' && exampleName(active) === name}
              title={SHIPPED[name].hint}
              onClick={() => {
                setError(null);
                openShipped(engine, name);
              }}
              data-testid={SHIPPED[name].testId}
            >
              {SHIPPED[name].button}
            </button>
          ))}
          <button type="button" disabled={!trained} onClick={() => send({ type: 'export', format: 'ddpm' })} data-testid="export-model">
            Export model (.ddpm)
          </button>
          {trainedDiffusers && (
            <button
              type="button"
              title="config.json, diffusion_pytorch_model.safetensors, scheduler_config.json and playground.json: diffusers' UNet2DModel.from_pretrained loads the folder"
              onClick={() => send({ type: 'export', format: 'diffusers' })}
              data-testid="export-diffusers"
            >
              Export as a diffusers folder (.zip)
            </button>
          )}
          <label className="upload">
            Import model…
            <input type="file" multiple accept=".ddpm,.json,.bin,.safetensors" onChange={importChosen} data-testid="import-model" />
          </label>
          <label
            className="upload"
            title="a diffusers model folder: config.json, diffusion_pytorch_model.safetensors (or .bin), scheduler_config.json"
          >
            Import a diffusers folder…
            <input type="file" {...{ webkitdirectory: '' }} onChange={importChosen} data-testid="import-folder" />
          </label>
        </div>
        <form
          className="controls hub"
          onSubmit={(e) => {
            e.preventDefault();
            setDownload({ repo, file: '', loaded: 0, total: null });
            send({ type: 'hub', repo, revision, endpoint: hubEndpoint() });
          }}
        >
          <label>
            Open from the Hugging Face Hub
            <input
              value={repo}
              onChange={(e) => setRepo(e.target.value)}
              placeholder="owner/name"
              spellCheck={false}
              data-testid="hub-repo"
            />
          </label>
          <label>
            revision
            <input value={revision} onChange={(e) => setRevision(e.target.value)} placeholder="main" size={8} data-testid="hub-revision" />
          </label>
          <button type="submit" disabled={download !== null || repo.trim() === ''} data-testid="hub-open">
            Open
          </button>
          {download && (
            <span className="status" role="status" data-testid="hub-progress">
              {download.file
                ? `${download.file}: ${(download.loaded / MB).toFixed(1)}${download.total !== null ? ` of ${(download.total / MB).toFixed(1)}` : ''} MB`
                : 'Looking…'}
              <progress
                max={download.total ?? undefined}
                value={download.total !== null ? download.loaded : undefined}
                aria-label="Download progress"
              />
              <button type="button" onClick={() => send({ type: 'cancelDownload' })} data-testid="hub-cancel">
                Cancel
              </button>
            </span>
          )}
        </form>
      </details>
      {error && (
        <p role="alert" className="error" data-testid="model-error">
          {error}
        </p>
      )}
    </section>
  );
}
