import { displayStep } from '../../diffusion/timestep';
import type { SampleFrame } from '../../protocol';
import type { RecordedFrame } from '../export';

/** Frames an exported GIF holds at most (plus the trajectory strip's steps). */
const GIF_FRAMES = 60;

/** The frames of a run kept for its GIF: every strip step, and about GIF_FRAMES evenly spaced others. */
export class TrajectoryRecorder {
  private recorded: RecordedFrame[] = [];
  private nextIndex = 0;

  get frames(): readonly RecordedFrame[] {
    return this.recorded;
  }

  clear(): void {
    this.recorded = [];
    this.nextIndex = 0;
  }

  add(f: SampleFrame): void {
    if (!f.keep && f.index < this.nextIndex) return;
    this.recorded.push({ step: displayStep(f.t), image: f.xt });
    this.nextIndex = f.index + f.total / GIF_FRAMES;
  }
}
