/** The diffusion core: schedules, the forward process, and the DDPM and DDIM reverse-process schedulers. */
export { makeSchedule, alphaCumprodAt, posteriorCoefficients, snr } from './schedule';
export type { BetaSchedule, Schedule, ScheduleConfig } from './schedule';
export { qSample, qPosterior } from './forward';
export type { Timesteps } from './forward';
export {
  x0FromEpsilon,
  epsilonFromX0,
  velocity,
  x0FromVelocity,
  epsilonFromVelocity,
  toX0AndEpsilon,
} from './predictions';
export type { PredictionType } from './predictions';
export { GaussianRng, drawNoise } from './random';
export { DDPMScheduler } from './ddpm';
export type { DDPMSchedulerConfig, StepOutput } from './ddpm';
export { DDIMScheduler } from './ddim';
export type { DDIMSchedulerConfig, DDIMStepOptions } from './ddim';
export type { SchedulerConfig } from './scheduler-config';
