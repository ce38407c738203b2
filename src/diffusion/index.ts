/** The diffusion core: schedules, the forward process, and the reverse-process schedulers behind one contract. */
export { makeSchedule, alphaCumprodAt, posteriorCoefficients, snr } from './schedule';
export type { BetaSchedule, Schedule, ScheduleConfig } from './schedule';
export { qSample, qPosterior } from './forward';
export type { Timesteps } from './forward';
export { noisedValues } from './forward-values';
export { x0FromEpsilon, epsilonFromX0, velocity, x0FromVelocity, epsilonFromVelocity, toX0AndEpsilon } from './predictions';
export type { PredictionType } from './predictions';
export { GaussianRng, drawNoise } from './random';
export { asTimestep, displayStep, fromDisplayStep, leadingTimesteps } from './timestep';
export type { Timestep } from './timestep';
export type { DiffusionConfig, Scheduler, StepOptions, StepOutput } from './scheduler';
export { DDPMScheduler } from './ddpm';
export type { DDPMSchedulerConfig } from './ddpm';
export { DDIMScheduler } from './ddim';
export type { DDIMSchedulerConfig } from './ddim';
export { DPMSolverMultistepScheduler } from './dpm-solver';
export type { DPMSolverConfig } from './dpm-solver';
export type { SchedulerConfig } from './scheduler-config';
