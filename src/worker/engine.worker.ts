/// <reference lib="webworker" />
import { Engine } from './engine';
import type { FromEngine, ToEngine } from './protocol';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (m: FromEngine, transfer: Transferable[] = []) => scope.postMessage(m, transfer);
const engine = new Engine(post);

scope.onmessage = async (e: MessageEvent<ToEngine>) => {
  const msg = e.data;
  try {
    switch (msg.type) {
      case 'init':
        return await engine.init(msg.modelUrl, msg.preferredBackend);
      case 'sample':
        return await engine.sample(msg.settings);
      case 'pause':
        return engine.pause();
      case 'resume':
        return engine.resume();
      case 'step':
        return engine.step();
      case 'stop':
        return engine.stop();
      case 'speed':
        return engine.setSpeed(msg.delayMs);
      case 'forwardImage':
        return engine.setForwardImage(msg.image);
      case 'forwardNoise':
        return engine.setForwardNoise(msg.seed);
      case 'forwardAt':
        return engine.forwardAt(msg.t);
    }
  } catch (err) {
    post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  }
};
