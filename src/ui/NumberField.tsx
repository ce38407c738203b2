import { useCallback, useState } from 'react';

interface Props {
  value: number;
  min: number;
  max: number;
  /** Whole numbers only. */
  integer?: boolean;
  /** Why the range ends where it does, added to the message for a value beyond that end (e.g. high: "higher rates make training diverge"). */
  reason?: { low?: string; high?: string };
  onCommit: (value: number) => void;
  /** Told whether the field holds a value it can use (false while it shows an error). */
  onValidity?: (valid: boolean) => void;
  disabled?: boolean;
  step?: number | 'any';
  testId: string;
}

/**
 * A number input that lets the person type freely and checks the value when they are done (blur or
 * Enter), with a message beside it — never clamping keystroke by keystroke. Escape puts the last
 * good value back.
 */
export function NumberField({ value, min, max, integer = false, reason, onCommit, onValidity, disabled, step, testId }: Props) {
  const [draft, setDraft] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const commit = () => {
    if (draft === null) return;
    const v = Number(draft);
    if (draft.trim() === '' || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) {
      const why = v < min ? reason?.low : v > max ? reason?.high : undefined;
      setError(`${integer ? 'a whole number' : 'a number'} from ${min} to ${max}${why && draft.trim() !== '' ? `: ${why}` : ''}`);
      onValidity?.(false);
      return;
    }
    setDraft(null);
    setError(null);
    onValidity?.(true);
    if (v !== value) onCommit(v);
  };
  return (
    <>
      <input
        type="number"
        min={min}
        max={max}
        step={step ?? (integer ? 1 : 'any')}
        value={draft ?? String(value)}
        disabled={disabled}
        aria-invalid={error !== null}
        onChange={(e) => {
          setDraft(e.target.value);
          setError(null);
        }}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === 'Enter') commit();
          if (e.key === 'Escape') {
            setDraft(null);
            setError(null);
            onValidity?.(true);
          }
        }}
        data-testid={testId}
      />
      {error && (
        <span role="alert" className="field-error" data-testid={`${testId}-error`}>
          {error}
        </span>
      )}
    </>
  );
}

/** Which of a form's NumberFields show an error: `valid` is false while any does. */
export function useFieldValidity(): { valid: boolean; onValidity: (field: string) => (ok: boolean) => void } {
  const [bad, setBad] = useState<ReadonlySet<string>>(new Set());
  const onValidity = useCallback(
    (field: string) => (ok: boolean) =>
      setBad((s) => {
        if (s.has(field) !== ok) return s;
        const next = new Set(s);
        if (ok) next.delete(field);
        else next.add(field);
        return next;
      }),
    [],
  );
  return { valid: bad.size === 0, onValidity };
}
