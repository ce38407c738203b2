import { asTimestep, displayStep } from '../../diffusion/timestep';
import type { TextUNetConfig } from '../../model/text-unet-config';
import type { SampleSettings } from '../../protocol';
import { describeUnread, PAD, START, tokenize } from '../../text/tokenizer';
import type { SamplingChannel } from '../sampling-channel';

interface Props {
  sampling: SamplingChannel;
  settings: SampleSettings;
  config: TextUNetConfig;
  numTrainTimesteps: number;
}

/** A prompt's words as the model reads them: known ones plain, unknown ones struck and named, cut ones dimmed. */
function ReadWords({ prompt, config, testId }: { prompt: string; config: TextUNetConfig; testId: string }) {
  const tokens = tokenize(prompt, config.text.vocabulary, config.text.maxTokens);
  const unread = describeUnread(tokens);
  const cut = new Set(tokens.truncated);
  return (
    <span className="prompt-words" data-testid={testId}>
      {tokens.words.map((w, i) => (
        <span
          key={i}
          className={w.id === null ? 'word unknown' : cut.has(w.word) ? 'word cut' : 'word'}
          title={w.id === null ? `the model doesn't know '${w.word}'` : undefined}
        >
          {w.word}
        </span>
      ))}
      {unread && (
        <span className="error" role="status" data-testid={`${testId}-unread`}>
          {unread}
        </span>
      )}
    </span>
  );
}

/** A text model's prompt, negative prompt and prompt switch (a second prompt from a chosen t down), with the words it knows at hand. */
export function PromptFields({ sampling, settings, config, numTrainTimesteps: T }: Props) {
  const vocabulary = config.text.vocabulary.filter((w) => w !== PAD && w !== START);
  const change = settings.promptSwitch ?? null;
  return (
    <div className="prompt-fields">
      <label className="prompt">
        Prompt
        <input
          value={settings.prompt ?? ''}
          onChange={(e) => sampling.set('prompt', e.target.value)}
          placeholder="a small 3 in the top left"
          spellCheck={false}
          data-testid="prompt"
        />
      </label>
      <ReadWords prompt={settings.prompt ?? ''} config={config} testId="prompt-words" />
      <label className="prompt">
        Negative prompt
        <input
          value={settings.negativePrompt ?? ''}
          onChange={(e) => sampling.set('negativePrompt', e.target.value)}
          placeholder="what guidance steers away from (empty: anything)"
          spellCheck={false}
          data-testid="negative-prompt"
        />
      </label>
      {settings.negativePrompt && <ReadWords prompt={settings.negativePrompt} config={config} testId="negative-words" />}
      <label className="inline">
        <input
          type="checkbox"
          checked={change !== null}
          onChange={(e) => sampling.set('promptSwitch', e.target.checked ? { prompt: 'an 8', at: Math.round(0.6 * T) - 1 } : null)}
          data-testid="switch-enabled"
        />
        Switch prompt mid-run
      </label>
      {change && (
        <>
          <label className="prompt">
            from t = {displayStep(asTimestep(change.at, T))} on
            <input
              type="range"
              min={0}
              max={T - 1}
              step={1}
              value={change.at}
              onChange={(e) => sampling.set('promptSwitch', { ...change, at: Number(e.target.value) })}
              data-testid="switch-at"
            />
          </label>
          <label className="prompt">
            the prompt becomes
            <input
              value={change.prompt}
              onChange={(e) => sampling.set('promptSwitch', { ...change, prompt: e.target.value })}
              spellCheck={false}
              data-testid="switch-prompt"
            />
          </label>
          <ReadWords prompt={change.prompt} config={config} testId="switch-words" />
        </>
      )}
      <details className="vocabulary">
        <summary>The {vocabulary.length} words it knows</summary>
        <p data-testid="vocabulary">{vocabulary.join(' · ')}</p>
      </details>
    </div>
  );
}
