/// <reference lib="webworker" />
import { explainFailure } from '../engine/failures';
import { Engine } from './engine';
import type { FromEngine, ToEngine } from './protocol';
import { TrainingController } from './training';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (m: FromEngine, transfer: Transferable[] = []) => scope.postMessage(m, transfer);
const engine = new Engine(post);
const training = new TrainingController(post, engine);

/** Messages about the training panel's work report their errors there. */
const TRAINING = new Set<ToEngine['type']>(['dataAdd', 'dataOptions', 'dataClear', 'trainEstimate', 'trainStart', 'trainResumeSaved', 'trainDiscardSaved', 'trainSavedQuery', 'useModel', 'exportModel', 'importModel']);

/** Messages whose work runs tfjs ops: they wait for the GPU kernel warm-up ('sample' waits inside, so it can be stopped). */
const GPU_WORK = new Set<ToEngine['type']>(['trainEstimate', 'trainStart', 'trainResumeSaved', 'useModel', 'exportModel', 'importModel']);

scope.onmessage = async (e: MessageEvent<ToEngine>) => {
  const msg = e.data;
  try {
    if (GPU_WORK.has(msg.type)) await engine.gpuReady();
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
      case 'dataAdd':
        return await training.addFiles(msg.files);
      case 'dataOptions':
        return await training.setOptions(msg.options);
      case 'dataClear':
        return training.clear();
      case 'trainEstimate':
        return await training.estimate(msg.setup);
      case 'trainStart':
        return await training.start(msg.setup);
      case 'trainResumeSaved':
        return await training.resumeSaved();
      case 'trainDiscardSaved':
        return await training.discardSaved();
      case 'trainSavedQuery':
        return await training.announceSaved();
      case 'trainPause':
        return training.pause();
      case 'trainResume':
        return training.resume();
      case 'trainStop':
        return training.stop();
      case 'useModel':
        return msg.which === 'trained' ? training.useTrained() : engine.setActiveModel(null);
      case 'exportModel':
        return await training.exportModel();
      case 'importModel':
        return await training.importModel(msg.files);
    }
  } catch (err) {
    const message = explainFailure(err);
    post(TRAINING.has(msg.type) ? { type: 'trainError', message } : { type: 'error', message });
  }
};
