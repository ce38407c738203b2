import { isTextUNet } from '../model/config';
import { SAMPLER_NAMES, type SamplerName } from '../pipeline/defaults';
import type { ModelInfo, SampleSettings } from '../protocol';

/**
 * The page's settings in its address, so a link reproduces a run: sampler, steps, η, seed, class,
 * guidance, batch, a text model's prompt, negative prompt and prompt switch (?switch=…&switchAt=t),
 * the forward panel's t, and the backend (?backend=, read by App). Values that do not fit the model
 * are ignored, not trusted.
 */
const KEYS = ['sampler', 'steps', 'eta', 'seed', 'label', 'guidance', 'batch'] as const;
/** The longest prompt an address may carry (a text model reads far fewer words). */
const MAX_PROMPT = 300;

/** The sampling settings the address asks for (only the valid ones). */
export function settingsFromUrl(search: string, model: ModelInfo): Partial<SampleSettings> {
  const q = new URLSearchParams(search);
  const T = model.diffusion.numTrainTimesteps;
  const out: Partial<SampleSettings> = {};
  const int = (k: string, min: number, max: number) => {
    const raw = q.get(k);
    const v = Number(raw);
    return raw !== null && raw !== '' && Number.isInteger(v) && v >= min && v <= max ? v : undefined;
  };
  const num = (k: string, min: number, max: number) => {
    const raw = q.get(k);
    const v = Number(raw);
    return raw !== null && raw !== '' && Number.isFinite(v) && v >= min && v <= max ? v : undefined;
  };
  const sampler = q.get('sampler');
  if (sampler && (SAMPLER_NAMES as string[]).includes(sampler)) out.sampler = sampler as SamplerName;
  out.steps = int('steps', 1, T);
  out.eta = num('eta', 0, 1);
  out.seed = int('seed', 0, 2 ** 31 - 1);
  out.guidance = num('guidance', 0, 6);
  out.batch = [1, 4, 16].find((b) => b === int('batch', 1, 16));
  const nc = model.config.numClasses;
  if (q.get('label') === 'none' && nc > 0) out.label = null;
  else if (nc > 0) out.label = int('label', 0, nc - 1);
  if (isTextUNet(model.config)) {
    const text = (k: string) => {
      const v = q.get(k);
      return v !== null && v.length <= MAX_PROMPT ? v : undefined;
    };
    out.prompt = text('prompt');
    out.negativePrompt = text('negative');
    const second = text('switch');
    const at = int('switchAt', 0, T - 1);
    if (second !== undefined && at !== undefined) out.promptSwitch = { prompt: second, at };
  }
  for (const k of Object.keys(out) as (keyof SampleSettings)[]) if (out[k] === undefined) delete out[k];
  return out;
}

/** The forward panel's step (0 … T) the address asks for, or null. */
export function forwardStepFromUrl(search: string, numTrainTimesteps: number): number | null {
  const raw = new URLSearchParams(search).get('t');
  const v = Number(raw);
  return raw !== null && raw !== '' && Number.isInteger(v) && v >= 0 && v <= numTrainTimesteps ? v : null;
}

/** The address's parameters for these settings (null: take the parameter out). */
export function settingsParams(settings: SampleSettings): Record<string, string | null> {
  const params: Record<string, string | null> = Object.fromEntries(
    KEYS.map((k) => [k, settings[k] === null ? 'none' : String(settings[k])]),
  );
  if (settings.prompt === undefined) return params;
  const change = settings.promptSwitch;
  return {
    ...params,
    prompt: settings.prompt,
    negative: settings.negativePrompt || null,
    switch: change ? change.prompt : null,
    switchAt: change ? String(change.at) : null,
  };
}

/** Sets these parameters in the address (null takes one out), without a new history entry. */
export function writeUrl(params: Record<string, string | null>): void {
  const url = new URL(location.href);
  for (const [k, v] of Object.entries(params)) {
    if (v === null) url.searchParams.delete(k);
    else url.searchParams.set(k, v);
  }
  history.replaceState(history.state, '', url);
}

/** A hub model the address asks for (?model=owner/name or owner/name@revision), or null. */
export function hubModelFromUrl(search: string): { repo: string; revision: string } | null {
  const m = /^([\w.-]+\/[\w.-]+)(?:@([\w./-]+))?$/.exec(new URLSearchParams(search).get('model') ?? '');
  return m ? { repo: m[1], revision: m[2] ?? '' } : null;
}

/** Puts the hub model the panels run on in the address (owner/name[@revision]), or takes it out (null). */
export function writeModelParam(repo: string | null): void {
  const url = new URL(location.href);
  if (repo === null) url.searchParams.delete('model');
  else url.searchParams.set('model', repo);
  history.replaceState(history.state, '', url);
}
