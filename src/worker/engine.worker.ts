/// <reference lib="webworker" />
import type { FromEngine, ToEngine } from '../protocol';
import { createEngine } from './services';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const engine = createEngine((m: FromEngine, transfer: Transferable[] = []) => scope.postMessage(m, transfer));
scope.onmessage = (e: MessageEvent<ToEngine>) => void engine.handle(e.data);
