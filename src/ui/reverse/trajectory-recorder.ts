import { displayImageStep, displayStep } from '../../diffusion/timestep';
import type { SampleFrame } from '../../protocol';
import type { LabelledImage } from '../export';

/** Frames an exported GIF holds at most (plus the trajectory strip's steps). */
const GIF_FRAMES = 60;

/**
 * The frames of a run kept for its GIF: the image it started from, every strip step, and about
 * GIF_FRAMES evenly spaced others, each with the step its image is at (0: the clean image).
 */
export class TrajectoryRecorder {
  private recorded: LabelledImage[] = [];
  private nextIndex = 0;

  get frames(): readonly LabelledImage[] {
    return this.recorded;
  }

  clear(): void {
    this.recorded = [];
    this.nextIndex = 0;
  }

  add(f: SampleFrame): void {
    if (f.start) this.recorded.push({ label: `t=${displayStep(f.start.at)}`, image: f.start.xt });
    if (!f.keep && f.index < this.nextIndex) return;
    this.recorded.push({ label: `t=${displayImageStep(f.at)}`, image: f.xt });
    this.nextIndex = f.index + f.total / GIF_FRAMES;
  }
}
