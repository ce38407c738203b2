import type { FromEngine, ToEngine } from '../worker/protocol';

/** The page's handle on the engine worker: send commands, subscribe to its messages. */
export class EngineClient {
  private readonly worker: Worker;
  private readonly listeners = new Set<(m: FromEngine) => void>();

  constructor() {
    this.worker = new Worker(new URL('../worker/engine.worker.ts', import.meta.url), { type: 'module' });
    this.worker.onmessage = (e: MessageEvent<FromEngine>) => this.listeners.forEach((l) => l(e.data));
    this.worker.onerror = (e) => this.listeners.forEach((l) => l({ type: 'error', message: e.message || 'the engine worker failed to start' }));
  }

  send(m: ToEngine): void {
    this.worker.postMessage(m);
  }

  subscribe(listener: (m: FromEngine) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  terminate(): void {
    this.worker.terminate();
  }
}
