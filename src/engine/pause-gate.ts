/** Where a long loop (a sampling run, a training run) stands. */
export type RunState = 'idle' | 'running' | 'paused';

/**
 * Pause, resume, single-step and stop for a loop that awaits `next()` between its steps — one gate
 * for sampling and training alike. A paused loop waits on a promise (no polling) that resume(),
 * step() or stop() settles.
 */
export class PauseGate {
  private current: RunState = 'idle';
  private stopped = false;
  private stepsAllowed = 0;
  private wake: (() => void) | null = null;

  /** Called on every change of state (e.g. to tell the page). */
  constructor(private readonly onChange: (state: RunState) => void = () => {}) {}

  get state(): RunState {
    return this.current;
  }

  /** True once stop() was called in this run. */
  get stopRequested(): boolean {
    return this.stopped;
  }

  /** A run begins (announced even when it replaces a running one). */
  start(): void {
    this.stopped = false;
    this.stepsAllowed = 0;
    this.current = 'running';
    this.onChange('running');
  }

  /** The run ended (its loop returned). */
  finish(): void {
    this.release();
    this.set('idle');
  }

  pause(): void {
    if (this.current === 'running') this.set('paused');
  }

  resume(): void {
    if (this.current !== 'paused') return;
    this.set('running');
    this.release();
  }

  /** While paused: let exactly one more step through. */
  step(): void {
    if (this.current !== 'paused') return;
    this.stepsAllowed++;
    this.release();
  }

  stop(): void {
    this.stopped = true;
    this.release();
  }

  /** Waits while paused; resolves true when the loop may take its next step, false once stopped. */
  async next(): Promise<boolean> {
    while (this.current === 'paused' && this.stepsAllowed === 0 && !this.stopped)
      await new Promise<void>((resolve) => (this.wake = resolve));
    if (this.stepsAllowed > 0) this.stepsAllowed--;
    return !this.stopped;
  }

  private release(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private set(state: RunState): void {
    if (state === this.current) return;
    this.current = state;
    this.onChange(state);
  }
}
