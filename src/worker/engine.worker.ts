/// <reference lib="webworker" />
import { selectBackend } from '../engine/backend';
import type { FromEngine, ToEngine } from './protocol';

const post = (m: FromEngine) => (self as unknown as DedicatedWorkerGlobalScope).postMessage(m);

self.onmessage = async (e: MessageEvent<ToEngine>) => {
  const msg = e.data;
  try {
    switch (msg.type) {
      case 'init':
        post({ type: 'ready', report: await selectBackend(msg.preferredBackend) });
        break;
    }
  } catch (err) {
    post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  }
};
