import { describe, expect, it } from 'vitest';
import { remainingDelay } from '../../src/worker/sampling';

// issue 26, item 8: "10 steps/s" ran at 6.5 — the delay was added to the step's compute time
describe('the speed setting', () => {
  it('waits only what the step itself did not take: 100 ms per step is 10 steps/s', () => {
    expect(remainingDelay(100, 35)).toBe(65);
    expect(remainingDelay(100, 0)).toBe(100);
    // a step slower than the setting does not wait at all (the run is then as fast as Max)
    expect(remainingDelay(20, 35)).toBe(0);
    expect(remainingDelay(0, 5)).toBe(0);
  });
});
