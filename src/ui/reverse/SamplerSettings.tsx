import { lazy, Suspense, useState } from 'react';
import { SAMPLER_NAMES, SAMPLERS } from '../../pipeline/defaults';
import { SAMPLE_BATCHES, type ModelInfo, type SampleSettings } from '../../protocol';
import { NumberField, type useFieldValidity } from '../NumberField';
import type { SamplingChannel } from '../sampling-channel';
import { isTextUNet } from '../../model/config';

/** A text model's fields load with the first text model (the main bundle stays small). */
const PromptFields = lazy(() => import('./PromptFields').then((m) => ({ default: m.PromptFields })));

/** The guidance strip's scales: none, the plain conditional model, and stronger and stronger pushes. */
const GUIDANCE_STRIP = [0, 1, 2, 4, 7];

interface Props {
  sampling: SamplingChannel;
  settings: SampleSettings;
  model: ModelInfo;
  /** Locked while a run goes on. */
  disabled: boolean;
  /** The form's fields: no run starts while one shows an error. */
  fields: ReturnType<typeof useFieldValidity>;
}

/** The run's settings (sampler, steps, η, batch, class, guidance, seed), and the runs made from them: compare, guidance strip, link. */
export function SamplerSettings({ sampling, settings, model, disabled, fields }: Props) {
  const [copied, setCopied] = useState<string | null>(null);
  const T = model.diffusion.numTrainTimesteps;
  const conditional = model.config.numClasses > 0;
  const text = isTextUNet(model.config) ? model.config : null;
  /** Guidance applies: a class model with a "no label" class, or a text model (the empty prompt is its "anything"). */
  const guided = (conditional && model.unlabelled) || text !== null;
  const set = <K extends keyof SampleSettings>(k: K, v: SampleSettings[K]) => sampling.set(k, v);
  return (
    <fieldset className="controls" disabled={disabled}>
      <legend className="visually-hidden">Sampler settings</legend>
      {text && (
        <Suspense fallback={null}>
          <PromptFields sampling={sampling} settings={settings} config={text} numTrainTimesteps={T} />
        </Suspense>
      )}
      <label>
        Sampler
        <select
          value={settings.sampler}
          onChange={(e) => {
            const sampler = e.target.value as SampleSettings['sampler'];
            set('sampler', sampler);
            // each few-step sampler starts at its own usual step count (DDIM 50, DPM-Solver++ 20)
            const steps = SAMPLERS[sampler].defaultSteps;
            if (steps !== null) set('steps', steps);
          }}
          data-testid="sampler"
        >
          {SAMPLER_NAMES.map((name) => (
            <option key={name} value={name}>
              {SAMPLERS[name].label}
              {SAMPLERS[name].defaultSteps === null ? ` (${T} steps)` : ''}
            </option>
          ))}
        </select>
      </label>
      {SAMPLERS[settings.sampler].defaultSteps !== null && (
        <label>
          Steps
          <NumberField
            value={settings.steps}
            min={1}
            max={T}
            integer
            onCommit={(v) => set('steps', v)}
            onValidity={fields.onValidity('steps')}
            testId="steps"
          />
        </label>
      )}
      {SAMPLERS[settings.sampler].eta && (
        <label>
          η {settings.eta.toFixed(2)}
          <input type="range" min={0} max={1} step={0.05} value={settings.eta} onChange={(e) => set('eta', Number(e.target.value))} />
        </label>
      )}
      <label>
        Batch
        <select value={settings.batch} onChange={(e) => set('batch', Number(e.target.value))} data-testid="batch">
          {SAMPLE_BATCHES.map((b) => (
            <option key={b} value={b}>
              {b}
            </option>
          ))}
        </select>
      </label>
      {conditional && (
        <label>
          Draw
          <select
            value={settings.label ?? ''}
            onChange={(e) => set('label', e.target.value === '' ? null : Number(e.target.value))}
            data-testid="label"
          >
            {model.classes.map((c, i) => (
              <option key={c} value={i}>
                {c}
              </option>
            ))}
            {model.unlabelled && <option value="">anything (no label)</option>}
          </select>
        </label>
      )}
      {guided && (
        <label title="Classifier-free guidance: ε = ε_uncond + s·(ε_cond − ε_uncond)">
          Guidance {settings.guidance.toFixed(1)}
          <input
            type="range"
            min={0}
            max={6}
            step={0.5}
            value={settings.guidance}
            onChange={(e) => set('guidance', Number(e.target.value))}
            data-testid="guidance"
          />
        </label>
      )}
      <label>
        Seed
        <NumberField
          value={settings.seed}
          min={0}
          max={2 ** 31 - 1}
          integer
          onCommit={(v) => set('seed', v)}
          onValidity={fields.onValidity('seed')}
          testId="seed"
        />
      </label>
      <button type="button" onClick={() => set('seed', Math.floor(Math.random() * 100000))} aria-label="Random seed">
        Random
      </button>
      <button
        type="button"
        disabled={!fields.valid}
        title="every sampler from the same noise, side by side"
        onClick={() => sampling.compare()}
        data-testid="compare-run"
      >
        Compare samplers
      </button>
      {guided && (
        <button
          type="button"
          disabled={(text ? !settings.prompt : settings.label === null) || !fields.valid}
          title={
            (text ? !settings.prompt : settings.label === null)
              ? `${text ? 'type a prompt' : 'choose a class to draw'}`
              : `the same noise at guidance ${GUIDANCE_STRIP.join(', ')} (DDIM, 10 steps)`
          }
          onClick={() => sampling.start(undefined, GUIDANCE_STRIP)}
          data-testid="guidance-strip-run"
        >
          Guidance strip
        </button>
      )}
      <button
        type="button"
        onClick={() =>
          void navigator.clipboard.writeText(sampling.link()).then(
            () => setCopied('Link copied: it opens this page with these settings.'),
            () => setCopied('Copy failed here; the address bar holds the link.'),
          )
        }
        data-testid="copy-link"
      >
        Copy link
      </button>
      {copied && (
        <span className="muted" role="status" data-testid="copy-status">
          {copied}
        </span>
      )}
    </fieldset>
  );
}
