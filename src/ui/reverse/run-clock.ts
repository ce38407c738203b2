/**
 * A run's active time, for its steps/s: the time it spent running, not paused (and, for a run asked
 * for during the GPU warm-up, counted from when the warm-up ended).
 */
export class RunClock {
  /** ms accumulated before the last pause, and since when it runs (null: paused or idle). */
  private activeMs = 0;
  private since: number | null = null;

  constructor(private readonly now: () => number = () => performance.now()) {}

  get running(): boolean {
    return this.since !== null;
  }

  /** A new run begins: count from zero, now. */
  restart(): void {
    this.activeMs = 0;
    this.since = this.now();
  }

  /** The run's state changed: stop counting while it is not running, resume when it is. */
  setRunning(running: boolean): void {
    if (!running && this.since !== null) {
      this.activeMs += this.now() - this.since;
      this.since = null;
    } else if (running && this.since === null) this.since = this.now();
  }

  /** Seconds the run has been running. */
  seconds(): number {
    return (this.activeMs + (this.since === null ? 0 : this.now() - this.since)) / 1000;
  }
}
