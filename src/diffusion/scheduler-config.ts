import type { PredictionType } from './predictions';
import { LINEAR_BETA_END, LINEAR_BETA_START, type BetaSchedule, type ScheduleConfig } from './schedule';

/** Configuration shared by every scheduler (names follow diffusers). */
export interface SchedulerConfig extends ScheduleConfig {
  /** What the model predicts: the noise ε (the paper's choice), x0 itself, or v. */
  predictionType?: PredictionType;
  /** Clip the predicted x0 to [−1, 1] before using it (the data range). Default true. */
  clipSample?: boolean;
}

export interface ResolvedSchedulerConfig {
  numTrainTimesteps: number;
  betaSchedule: BetaSchedule;
  betaStart: number;
  betaEnd: number;
  predictionType: PredictionType;
  clipSample: boolean;
}

export function resolveSchedulerConfig(c: SchedulerConfig): ResolvedSchedulerConfig {
  return {
    numTrainTimesteps: c.numTrainTimesteps,
    betaSchedule: c.betaSchedule,
    betaStart: c.betaStart ?? LINEAR_BETA_START,
    betaEnd: c.betaEnd ?? LINEAR_BETA_END,
    predictionType: c.predictionType ?? 'epsilon',
    clipSample: c.clipSample ?? true,
  };
}
