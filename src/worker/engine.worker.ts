/// <reference lib="webworker" />
import { Engine } from './engine';
import type { FromEngine, ToEngine } from './protocol';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const engine = new Engine((m: FromEngine, transfer: Transferable[] = []) => scope.postMessage(m, transfer));
scope.onmessage = (e: MessageEvent<ToEngine>) => void engine.handle(e.data);
