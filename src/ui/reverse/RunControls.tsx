import { useState } from 'react';
import type { RunState } from '../../protocol';
import { PauseIcon, PlayIcon, StepIcon, StopIcon } from '../icons';
import type { SamplingChannel } from '../sampling-channel';

const SPEEDS = [
  { label: 'Max', delayMs: 0 },
  { label: '50 steps/s', delayMs: 20 },
  { label: '10 steps/s', delayMs: 100 },
  { label: '2 steps/s', delayMs: 500 },
];

/** Sample / Pause / Resume (one button whose action follows the run), Step, Stop and the speed. */
export function RunControls({ sampling, state, canStart }: { sampling: SamplingChannel; state: RunState; canStart: boolean }) {
  const [speed, setSpeed] = useState(0);
  const primary =
    state === 'running'
      ? { label: 'Pause', Icon: PauseIcon, testId: 'pause', act: () => sampling.pause() }
      : state === 'paused'
        ? { label: 'Resume', Icon: PlayIcon, testId: 'resume', act: () => sampling.resume() }
        : { label: 'Sample', Icon: PlayIcon, testId: 'sample', act: () => sampling.start() };
  return (
    <div className="controls" role="group" aria-label="Sampling controls">
      {/* one button whose action follows the run, so keyboard focus stays on it when the run starts and ends */}
      <button type="button" className="primary" onClick={primary.act} disabled={state === 'idle' && !canStart} data-testid={primary.testId}>
        <primary.Icon /> {primary.label}
      </button>
      <button type="button" onClick={() => sampling.step()} disabled={state !== 'paused'} data-testid="step">
        <StepIcon /> Step
      </button>
      <button type="button" onClick={() => sampling.stop()} disabled={state === 'idle'} data-testid="stop">
        <StopIcon /> Stop
      </button>
      <label>
        Speed
        <select
          data-testid="speed"
          value={speed}
          onChange={(e) => {
            const v = Number(e.target.value);
            setSpeed(v);
            sampling.setSpeed(SPEEDS[v].delayMs);
          }}
        >
          {SPEEDS.map((s, i) => (
            <option key={s.label} value={i}>
              {s.label}
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}
