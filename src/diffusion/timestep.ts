/**
 * Timesteps. The code counts them from 0 (t = 0 … T−1, an index into the schedule's tables); the
 * paper and the page count from 1 (step T … 1). The brand keeps the two apart: a plain number is
 * not a Timestep until `asTimestep` has checked it, and the page shows one only through `displayStep`.
 */
export type Timestep = number & { readonly __brand: 'Timestep' };

/** A checked 0-based timestep t ∈ {0, …, T−1}. */
export function asTimestep(t: number, numTrainTimesteps: number): Timestep {
  if (!Number.isInteger(t) || t < 0 || t >= numTrainTimesteps)
    throw new RangeError(`timestep must be an integer in [0, ${numTrainTimesteps - 1}], got ${t}`);
  return t as Timestep;
}

/** The paper's (and the page's) 1-based step number of t: T for t = T−1, 1 for t = 0. */
export function displayStep(t: Timestep): number {
  return t + 1;
}

/** The page's step of an image at timestep `at`, 0 for the clean image x0 (at = null). */
export function displayImageStep(at: Timestep | null): number {
  return at === null ? 0 : displayStep(at);
}

/** The timestep shown as step s on the page (s = 1 … T), or null for s = 0: the clean image x0. */
export function fromDisplayStep(s: number, numTrainTimesteps: number): Timestep | null {
  return s === 0 ? null : asTimestep(s - 1, numTrainTimesteps);
}

/** Checks a step count: an integer in [1, T]. */
export function checkNumInferenceSteps(numInferenceSteps: number, numTrainTimesteps: number): void {
  if (!Number.isInteger(numInferenceSteps) || numInferenceSteps < 1 || numInferenceSteps > numTrainTimesteps)
    throw new RangeError(`numInferenceSteps must be an integer in [1, ${numTrainTimesteps}], got ${numInferenceSteps}`);
}

/**
 * diffusers' "leading" spacing: every ⌊T/n⌋-th timestep from 0, descending, plus an offset — with
 * T = 1000 and n = 10, 900, 800, …, 0; with n = T, every timestep T−1, …, 0.
 */
export function leadingTimesteps(numTrainTimesteps: number, numInferenceSteps: number, offset = 0): Timestep[] {
  checkNumInferenceSteps(numInferenceSteps, numTrainTimesteps);
  const ratio = Math.floor(numTrainTimesteps / numInferenceSteps);
  return Array.from({ length: numInferenceSteps }, (_, i) => asTimestep((numInferenceSteps - 1 - i) * ratio + offset, numTrainTimesteps));
}

/**
 * diffusers' "linspace" spacing: round(linspace(0, T − 1, n + 1)) reversed, without its last entry
 * (0), duplicates dropped (numpy rounds halves to even) — with T = 1000 and n = 10, 999, 899, …, 100.
 */
export function linspaceTimesteps(numTrainTimesteps: number, numInferenceSteps: number): Timestep[] {
  checkNumInferenceSteps(numInferenceSteps, numTrainTimesteps);
  const delta = (numTrainTimesteps - 1) / numInferenceSteps;
  const ascending = Array.from({ length: numInferenceSteps + 1 }, (_, i) =>
    i === numInferenceSteps ? numTrainTimesteps - 1 : roundHalfEven(i * delta),
  );
  return [...new Set(ascending.reverse().slice(0, -1))].map((t) => asTimestep(t, numTrainTimesteps));
}

/** numpy's round: halves go to the even neighbour. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
