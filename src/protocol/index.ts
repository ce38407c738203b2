/**
 * The page–worker contract: the typed messages between the page (React, no tfjs) and the engine
 * worker (all tfjs), imported by both sides and by nothing else of either. Every message names its
 * channel; each channel has its own file with its sub-union both ways, its own 'error' and its own
 * panel. Images travel as Float32Array in [−1, 1], NHWC, batch-major (`ImageBatch`).
 */
import { ENGINE_STATE, type EngineEvent, type EngineRequest } from './engine';
import type { MemorisationEvent, MemorisationRequest } from './memorisation';
import { MODELS_STATE, type ModelsEvent, type ModelsRequest } from './models';
import { SAMPLING_STATE, type SamplingEvent, type SamplingRequest } from './sampling';
import { TRAINING_STATE, type TrainingEvent, type TrainingRequest } from './training';

export type * from './engine';
export type * from './images';
export type * from './memorisation';
export type * from './models';
export type * from './sampling';
export type * from './training';
export { SAMPLE_BATCHES } from './sampling';
export { FILMSTRIP_LENGTH } from './training';
export type { RunState } from '../engine/pause-gate';
export type { CaptionSummary, DataFile, DataSummary } from '../data/collection';
export type { TrainSetup } from '../training/recipe';
export type { Closeness, Verdict } from '../memorisation/nearest';

export type ToEngine = EngineRequest | SamplingRequest | TrainingRequest | ModelsRequest | MemorisationRequest;
export type FromEngine = EngineEvent | SamplingEvent | TrainingEvent | ModelsEvent | MemorisationEvent;
export type Channel = ToEngine['channel'];

/** The requests of one channel (what its service handles). */
export type ChannelRequest<C extends Channel> = Extract<ToEngine, { channel: C }>;
/** The events of one channel (what its service posts, and its panel hears). */
export type ChannelEvent<C extends Channel> = Extract<FromEngine, { channel: C }>;

/**
 * Messages that describe how things stand rather than something that happened: the page keeps the
 * latest of each and replays it to a panel that subscribes later, so nothing races a panel's mount.
 * Each channel's file lists its own.
 */
export const REPLAYED: ReadonlySet<string> = new Set([
  ...ENGINE_STATE.map((t) => `engine/${t}`),
  ...SAMPLING_STATE.map((t) => `sampling/${t}`),
  ...TRAINING_STATE.map((t) => `training/${t}`),
  ...MODELS_STATE.map((t) => `models/${t}`),
]);

export const messageKey = (m: { channel: Channel; type: string }): string => `${m.channel}/${m.type}`;
