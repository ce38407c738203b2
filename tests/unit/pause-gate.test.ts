import { describe, expect, it } from 'vitest';
import { PauseGate, type RunState } from '../../src/engine/pause-gate';

/** Runs a loop of `n` steps through the gate, recording each step taken. */
function loop(gate: PauseGate, n: number, taken: number[]): Promise<void> {
  return (async () => {
    for (let i = 0; i < n; i++) {
      if (!(await gate.next())) break;
      taken.push(i);
      await new Promise((r) => setTimeout(r, 0));
    }
    gate.finish();
  })();
}

const settle = () => new Promise((r) => setTimeout(r, 5));

describe('PauseGate', () => {
  it('pause holds the loop, step lets exactly one step through, resume lets it run to the end', async () => {
    const states: RunState[] = [];
    const gate = new PauseGate((s) => states.push(s));
    const taken: number[] = [];
    gate.start();
    gate.pause();
    const done = loop(gate, 5, taken);
    await settle();
    expect(taken).toEqual([]);
    gate.step();
    await settle();
    expect(taken).toEqual([0]);
    gate.step();
    gate.step();
    await settle();
    expect(taken).toEqual([0, 1, 2]);
    gate.resume();
    await done;
    expect(taken).toEqual([0, 1, 2, 3, 4]);
    expect(states).toEqual(['running', 'paused', 'running', 'idle']);
  });

  it('stop ends a paused loop at once; step and resume do nothing unless paused', async () => {
    const gate = new PauseGate();
    const taken: number[] = [];
    gate.step();
    gate.resume();
    expect(gate.state).toBe('idle');
    gate.start();
    gate.pause();
    const done = loop(gate, 5, taken);
    await settle();
    gate.stop();
    await done;
    expect(taken).toEqual([]);
    expect(gate.stopRequested).toBe(true);
    expect(gate.state).toBe('idle');
    gate.start();
    expect(gate.stopRequested).toBe(false);
  });

  it('a start announces itself even when it replaces a running run', () => {
    const states: RunState[] = [];
    const gate = new PauseGate((s) => states.push(s));
    gate.start();
    gate.stop();
    gate.start();
    expect(states).toEqual(['running', 'running']);
  });
});
