import * as tf from '@tensorflow/tfjs';
import { GaussianRng } from '../diffusion/random';
import type { ModelConfig } from '../model/config';
import type { DiffusionConfig } from '../diffusion/scheduler';
import { UNet } from '../model/model';
import { weightSpecs } from '../model/unet';
import { Trainer, type TrainConfig } from './trainer';

/**
 * Everything needed to resume training exactly where it stopped: weights, EMA weights, Adam's
 * moments and step count, the generator's state, and the loss history. A plain structured-cloneable
 * object (ArrayBuffer + JSON values), so it can go straight into IndexedDB or a worker message.
 */
export interface TrainingCheckpoint {
  format: 'ddpm-playground-checkpoint';
  version: 1;
  config: ModelConfig;
  diffusion: DiffusionConfig;
  trainConfig: TrainConfig;
  step: number;
  rng: ReturnType<GaussianRng['getState']>;
  lossHistory: [number, number][];
  /** Tensors named 'model/<weight>', 'ema/<weight>', 'adam/iter', 'adam/m/<weight>', 'adam/v/<weight>'. */
  specs: tf.io.WeightsManifestEntry[];
  data: ArrayBuffer;
}

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

export async function saveCheckpoint(trainer: Trainer): Promise<TrainingCheckpoint> {
  const names = weightSpecs(trainer.model.config).map((s) => s.name);
  const tensors: { name: string; tensor: tf.Tensor }[] = names.map((n) => ({ name: `model/${n}`, tensor: trainer.model.weights.get(n)! }));
  if (trainer.ema) tensors.push(...names.map((n) => ({ name: `ema/${n}`, tensor: trainer.ema!.weights.get(n)! })));
  // Adam's moments per weight, in the model's weight order (the layout tf.train.adam's slots had)
  const adam = trainer.step > 0 ? trainer.adamState() : null;
  const made: tf.Tensor[] = [];
  if (adam) {
    made.push(tf.scalar(adam.iterations, 'int32'), ...adam.m, ...adam.v);
    tensors.push({ name: 'adam/iter', tensor: made[0] });
    names.forEach((n, i) => tensors.push({ name: `adam/m/${n}`, tensor: adam.m[i] }, { name: `adam/v/${n}`, tensor: adam.v[i] }));
  }
  const { data, specs } = await tf.io.encodeWeights(tensors);
  tf.dispose(made);
  return {
    format: 'ddpm-playground-checkpoint',
    version: 1,
    config: trainer.model.config,
    diffusion: trainer.diffusion,
    trainConfig: trainer.config,
    step: trainer.step,
    rng: trainer.rng.getState(),
    lossHistory: trainer.lossHistory.slice(),
    specs,
    data: data,
  };
}

/** A trainer (with its model) that continues exactly where the checkpoint stopped. */
export async function restoreTrainer(ckpt: TrainingCheckpoint): Promise<Trainer> {
  if (ckpt?.format !== 'ddpm-playground-checkpoint' || ckpt.version !== 1)
    throw new CheckpointError('not a DDPM Playground training checkpoint');
  const tensors = tf.io.decodeWeights(ckpt.data, ckpt.specs);
  const names = weightSpecs(ckpt.config).map((s) => s.name);
  const pick = (prefix: string) => new Map(names.map((n) => [n, tensors[`${prefix}/${n}`]]));
  const missing = names.find((n) => !tensors[`model/${n}`]);
  if (missing) throw new CheckpointError(`the checkpoint has no weight 'model/${missing}'`);
  const model = new UNet(ckpt.config, pick('model'));
  const trainer = new Trainer(model, ckpt.diffusion, ckpt.trainConfig, GaussianRng.fromState(ckpt.rng));
  if (trainer.ema && tensors[`ema/${names[0]}`]) {
    const ema = pick('ema');
    trainer.setEmaWeights(ema);
    tf.dispose([...ema.values()]);
  }
  if (tensors['adam/iter']) {
    const slot = (k: 'm' | 'v') =>
      names.map((n) => {
        const t = tensors[`adam/${k}/${n}`];
        if (!t) throw new CheckpointError(`the checkpoint has no Adam moment 'adam/${k}/${n}'`);
        return t;
      });
    const iterations = (await tensors['adam/iter'].data())[0];
    const m = slot('m');
    const v = slot('v');
    trainer.setAdamState({ iterations, m, v });
    tf.dispose([tensors['adam/iter'], ...m, ...v]);
  }
  trainer.step = ckpt.step;
  trainer.lossHistory = ckpt.lossHistory.slice();
  return trainer;
}
