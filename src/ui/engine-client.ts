import { messageKey, REPLAYED, type Channel, type ChannelEvent, type FromEngine, type ToEngine } from '../protocol';

/**
 * The page's handle on the engine worker: send requests, subscribe to one channel's events. It keeps
 * the latest of each state message (REPLAYED) and replays them to a listener that subscribes later,
 * so a panel that mounts after the worker spoke still learns how things stand.
 */
export class EngineClient {
  private readonly worker: Worker;
  private readonly listeners = new Set<(m: FromEngine) => void>();
  private readonly latest = new Map<string, FromEngine>();

  constructor() {
    this.worker = new Worker(new URL('../worker/engine.worker.ts', import.meta.url), { type: 'module' });
    this.worker.onmessage = (e: MessageEvent<FromEngine>) => this.dispatch(e.data);
    this.worker.onerror = (e) =>
      this.dispatch({ channel: 'engine', type: 'error', message: e.message || 'the engine worker failed to start' });
  }

  private dispatch(m: FromEngine): void {
    if (REPLAYED.has(messageKey(m))) this.latest.set(messageKey(m), m);
    this.listeners.forEach((l) => l(m));
  }

  send(m: ToEngine): void {
    this.worker.postMessage(m);
  }

  /** Calls `listener` with the channel's replayed state now, then with every event on the channel. */
  subscribe<C extends Channel>(channel: C, listener: (m: ChannelEvent<C>) => void): () => void {
    for (const m of this.latest.values()) if (m.channel === channel) listener(m as ChannelEvent<C>);
    const l = (m: FromEngine) => {
      if (m.channel === channel) listener(m as ChannelEvent<C>);
    };
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  terminate(): void {
    this.worker.terminate();
  }
}
