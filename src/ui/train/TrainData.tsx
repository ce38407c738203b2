import { lazy, Suspense, useEffect, useState } from 'react';
import { DATASET_LIMITS, type DataOptions } from '../../data/dataset';
import { IMAGE_SIZES } from '../../model/config';
import type { DataSummary } from '../../protocol';
import { filesFromDrop, filesFromInput } from '../files';
import { ImageCanvas } from '../ImageCanvas';
import { groupImages } from '../pixels';
import type { useTraining } from './use-training';

interface Props {
  send: ReturnType<typeof useTraining>['send'];
  summary: DataSummary | null;
  progress: { done: number; total: number } | null;
  /** Data cannot change while training runs. */
  locked: boolean;
  /** The training channel's last error (a refused size or colour ends the wait for it). */
  error: string | null;
}

const ACCEPT = 'image/png,image/jpeg,image/webp,image/gif,image/bmp,.txt,.csv,.jsonl';

// only a captioned set shows it: loaded when one is there
const CaptionedPreview = lazy(() => import('./CaptionedPreview').then((m) => ({ default: m.CaptionedPreview })));

/** Files each with a reason (left out, or kept with a loss), folded away when there are many. */
function FileReasons({
  items,
  heading,
  testId,
}: {
  items: { name: string; reason: string }[];
  heading: (n: number) => string;
  testId: string;
}) {
  if (items.length === 0) return null;
  return (
    <details open={items.length <= 12} className="rejected">
      <summary>{heading(items.length)}</summary>
      <ul data-testid={testId}>
        {items.map((r, i) => (
          <li key={i}>
            <strong>{r.name}</strong>: {r.reason}
          </li>
        ))}
      </ul>
    </details>
  );
}

const sameOptions = (a: DataOptions, b: DataOptions) => a.size === b.size && a.channels === b.channels && a.fit === b.fit;

/** Step 1 of training: drop or pick pictures, choose size and colour, see what will be trained on. */
export function TrainData({ send, summary, progress, locked, error }: Props) {
  const [over, setOver] = useState(false);
  const current: DataOptions = summary?.options ?? { size: 28, channels: 1, fit: 'crop' };
  // the person's choice shows at once and stays until the set has it: the worker finishes an upload
  // under way first, and its summary still has the size and colour from before
  const [chosen, setChosen] = useState<DataOptions | null>(null);
  const reached = chosen !== null && sameOptions(chosen, current);
  useEffect(() => {
    if (reached) setChosen(null);
  }, [reached]);
  useEffect(() => setChosen(null), [error]);
  const options = chosen ?? current;
  const setOption = <K extends keyof DataOptions>(k: K, v: DataOptions[K]) => {
    const next = { ...options, [k]: v };
    setChosen(next);
    send({ type: 'dataOptions', options: next });
  };
  const add = (files: ReturnType<typeof filesFromInput>) => {
    if (files.length) send({ type: 'addFiles', files });
  };
  // empty the picker after reading it, so choosing the same file again is a change too
  const pick = (input: HTMLInputElement) => {
    add(filesFromInput(input.files));
    input.value = '';
  };
  const decoding = progress && progress.done < progress.total;
  const captions = summary?.captions ?? null;
  // by name, as a person reads them (numbers in numeric order: 2 before 10); unlabelled last
  const classes = Object.entries(summary?.counts ?? {}).sort(([a], [b]) =>
    a === '' ? 1 : b === '' ? -1 : a.localeCompare(b, undefined, { numeric: true }),
  );

  return (
    <div className="train-data">
      <h3>1. Your pictures</h3>
      <div
        className={`dropzone${over ? ' over' : ''}`}
        data-testid="dropzone"
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault();
          setOver(false);
          if (!locked) void filesFromDrop(e.dataTransfer).then(add);
        }}
      >
        <p>
          Drop pictures or a folder here (PNG, JPEG, WebP, GIF, BMP). Sub-folders become classes (e.g. <code>cats/</code>,{' '}
          <code>dogs/</code>). Up to {DATASET_LIMITS.maxImages.toLocaleString()} images; nothing leaves this computer.
        </p>
        <p>
          To train a text-to-image model, caption them: add a <code>captions.txt</code> (<code>file&#9;caption</code> or{' '}
          <code>file: caption</code> per line), <code>captions.csv</code> (<code>file,caption</code>) or <code>captions.jsonl</code> (
          <code>{'{"file": …, "caption": …}'}</code>), or tick “captions” to read each file name as its caption (
          <code>a-small-3_12.png</code> → “a small 3”).
        </p>
        <div className="controls">
          <label className="upload">
            Choose files…
            <input type="file" multiple accept={ACCEPT} disabled={locked} onChange={(e) => pick(e.target)} data-testid="data-files" />
          </label>
          <label className="upload">
            Choose a folder…
            <input
              type="file"
              multiple
              disabled={locked}
              {...{ webkitdirectory: '' }}
              onChange={(e) => pick(e.target)}
              data-testid="data-folder"
            />
          </label>
          <button
            type="button"
            disabled={locked}
            onClick={() => send({ type: 'example', set: 'captioned-digits' })}
            title="2,000 MNIST digits at a size and place on 32×32 pictures, each with a caption that says which, how big and where"
            data-testid="data-example-captioned"
          >
            Captioned digits (example)
          </button>
          <button
            type="button"
            disabled={locked || !(summary?.count || summary?.rejected.length || summary?.overCap)}
            onClick={() => send({ type: 'clearData' })}
            data-testid="data-clear"
          >
            Clear
          </button>
        </div>
      </div>
      {summary?.suggestion && (
        <p className="muted" data-testid="data-suggestion">
          {summary.suggestion}
        </p>
      )}
      <div className="controls" role="group" aria-label="Image format">
        <label>
          Size
          <select
            value={options.size}
            disabled={locked}
            onChange={(e) => setOption('size', Number(e.target.value))}
            data-testid="data-size"
          >
            {IMAGE_SIZES.map((s) => (
              <option key={s} value={s}>
                {s}×{s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Colour
          <select
            value={options.channels}
            disabled={locked}
            onChange={(e) => setOption('channels', Number(e.target.value) as 1 | 3)}
            data-testid="data-channels"
          >
            <option value={1}>grey</option>
            <option value={3}>RGB</option>
          </select>
        </label>
        <label>
          Fit
          <select
            value={options.fit}
            disabled={locked}
            onChange={(e) => setOption('fit', e.target.value as DataOptions['fit'])}
            data-testid="data-fit"
          >
            <option value="crop">crop the centre</option>
            <option value="pad">pad to a square</option>
          </select>
        </label>
        <label title="Train a text-to-image model on the pictures' captions (a captions file, or else the file names)">
          <input
            type="checkbox"
            checked={!!captions}
            disabled={locked}
            onChange={(e) => send({ type: 'captions', on: e.target.checked })}
            data-testid="data-captions"
          />
          captions
        </label>
      </div>
      {decoding && (
        <p className="status" role="status">
          Decoding {progress.done} / {progress.total}… <progress value={progress.done} max={progress.total} />
        </p>
      )}
      {summary && (
        <div className="data-summary">
          <p data-testid="data-count" role="status">
            {summary.count} image{summary.count === 1 ? '' : 's'} ready
            {captions
              ? ', captioned (a text-to-image model)'
              : summary.classNames.length
                ? ` in ${summary.classNames.length} classes: ${classes.map(([k, n]) => `${k || 'unlabelled'} ${n}`).join(', ')}`
                : ' (no classes: an unconditional model)'}
          </p>
          {captions && (
            <Suspense fallback={null}>
              <CaptionedPreview preview={summary.preview} captions={captions} />
            </Suspense>
          )}
          {!captions && summary.previewClasses.length > 0 && (
            <ul className="class-preview" data-testid="data-preview-classes">
              {groupImages(summary.preview, summary.previewClasses).map(({ name, images }) => (
                <li key={name}>
                  <ImageCanvas
                    image={images}
                    displaySize={Math.min(120, 32 * Math.ceil(Math.sqrt(images.batch)))}
                    label={`${name || 'unlabelled'}: ${images.batch} of ${summary.counts[name]} images`}
                    testId="data-preview-class"
                  />
                  <span>
                    {name || 'unlabelled'} · {summary.counts[name]}
                  </span>
                </li>
              ))}
            </ul>
          )}
          {!captions && summary.previewClasses.length === 0 && summary.preview.batch > 0 && (
            <ImageCanvas
              image={summary.preview}
              displaySize={Math.min(320, 40 * Math.ceil(Math.sqrt(summary.preview.batch)))}
              label={`preview of the first ${summary.preview.batch} training images`}
              testId="data-preview"
            />
          )}
          {summary.preview.batch > 0 && summary.preview.batch < summary.count && (
            <p className="muted" data-testid="data-preview-note">
              {summary.previewClasses.length
                ? `${summary.preview.batch} of ${summary.count.toLocaleString()} images: the first of each class.`
                : `The first ${summary.preview.batch} of ${summary.count.toLocaleString()} images.`}
            </p>
          )}
          {summary.overCap > 0 && (
            <p className="warning" data-testid="data-cap">
              {summary.overCap} file{summary.overCap === 1 ? ' was' : 's were'} not read: the limit is{' '}
              {DATASET_LIMITS.maxImages.toLocaleString()} images, more than a browser can train on in a session and enough to keep decoded
              in memory.
            </p>
          )}
          <FileReasons
            items={summary.notes.map((n) => ({ name: n.name, reason: n.note }))}
            heading={(n) => `${n} picture${n === 1 ? '' : 's'} to look at`}
            testId="data-notes"
          />
          <FileReasons items={summary.rejected} heading={(n) => `${n} file${n === 1 ? '' : 's'} left out`} testId="data-rejected" />
        </div>
      )}
    </div>
  );
}
