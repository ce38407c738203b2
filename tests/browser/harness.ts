/**
 * harness.html (built only with `DDPM_HARNESS=1 vite build`): exposes the engine to browser tests,
 * which drive it with page.evaluate. Not part of the shipped playground.
 */
import * as tf from '@tensorflow/tfjs';
import * as diffusion from '../../src/diffusion';
import { selectBackend } from '../../src/engine/backend';
import { UNet } from '../../src/model/model';
import { fromArtifacts, loadModel, toArtifacts } from '../../src/model/io';
import { DEFAULT_UNET_CONFIG } from '../../src/model/config';
import { Trainer } from '../../src/training/trainer';
import { ddpmLoss } from '../../src/training/loss';
import { runBrowserBench } from '../../bench/browser';
import { ImageDataset } from '../../src/data/dataset';
import { presetConfig } from '../../src/training/presets';
import { TrainingSession } from '../../src/training/session';
import { checkGroupNormCases } from '../shared/group-norm-check';
import { checkTimestepEmbedding } from '../shared/timestep-embedding-check';
import { sample } from '../../src/pipeline/sample';
import { modelToFile } from '../../src/model/model-file';
import { pipelineCache, samplingShapes, warmUpSampling } from '../../src/worker/warmup';

const harness = {
  tf,
  diffusion,
  selectBackend,
  UNet,
  loadModel,
  toArtifacts,
  fromArtifacts,
  DEFAULT_UNET_CONFIG,
  Trainer,
  ddpmLoss,
  bench: runBrowserBench,
  ImageDataset,
  presetConfig,
  TrainingSession,
  checkGroupNormCases,
  checkTimestepEmbedding,
  sample,
  warmUpSampling,
  samplingShapes,
  pipelineCache,
  modelToFile,
};
declare global {
  interface Window {
    harness: typeof harness;
  }
}
window.harness = harness;
document.title = 'harness ready';
