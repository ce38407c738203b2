/**
 * The one gate on the compute device in the worker, owned by the Engine and handed to every service
 * that runs tfjs ops. Two kinds of work take it:
 * - an exclusive job (the GPU kernel warm-up): while it runs no other tfjs op may run (a program whose
 *   pipeline is still compiling would throw), so tfjs work first awaits `ready()`; jobs queue;
 * - a long shared job (a training run) that interleaves with sampling: while one holds the device no
 *   exclusive job starts (its programs would meet pipelines still compiling), and `onRelease` fires
 *   when the last one lets go.
 */
export class DeviceGate {
  private exclusive: Promise<void> = Promise.resolve();
  private holders = 0;
  /** Called when the last long job releases the device (the warm-up catches up then). */
  readonly onRelease = new Set<() => void>();

  /** Resolves once no exclusive job runs or is queued (at once when none is). */
  async ready(): Promise<void> {
    for (let e = this.exclusive; ; e = this.exclusive) {
      await e;
      if (e === this.exclusive) return;
    }
  }

  /** Whether a long job holds the device. */
  get held(): boolean {
    return this.holders > 0;
  }

  /**
   * Queues an exclusive job behind those in progress; refused (false, nothing queued) while a long job
   * holds the device. The job reports its own failures: a rejection is dropped so the queue goes on.
   */
  runExclusive(job: () => Promise<void>): boolean {
    if (this.held) return false;
    this.exclusive = this.exclusive.then(job).catch(() => undefined);
    return true;
  }

  /** A long job takes the device once no exclusive job runs; call the returned function (once) when it ends. */
  async hold(): Promise<() => void> {
    await this.ready();
    this.holders++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.holders === 0) for (const listener of this.onRelease) listener();
    };
  }
}
