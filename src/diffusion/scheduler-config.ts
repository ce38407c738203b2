import type { PredictionType } from './predictions';
import type { BetaSchedule, ScheduleConfig } from './schedule';

/** Configuration shared by the DDPM and DDIM schedulers (names follow diffusers). */
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
    betaStart: c.betaStart ?? 1e-4,
    betaEnd: c.betaEnd ?? 0.02,
    predictionType: c.predictionType ?? 'epsilon',
    clipSample: c.clipSample ?? true,
  };
}
