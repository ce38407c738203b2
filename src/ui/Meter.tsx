interface Props {
  /** The classifier's probabilities for each image of the batch, [batch·K]. */
  reads: Float32Array;
  batch: number;
  /** The class asked for (null: any). */
  label: number | null;
  /** The classifier's K class names (meterNames). */
  names: string[];
  /** p(the digit) at each step read so far: [position in the run 0…1, probability]. */
  history: [number, number][];
}

const W = 220;
const H = 60;
/** The curve's 0 % and 100 % lie this far inside the box, on their own grid lines (not on its border). */
const INSET = 6;

/** The curve's points: x from the first step (0) to the last (1), p from 0 % (bottom) to 100 % (top), inside the box. */
export function curvePath(history: [number, number][]): string {
  const y = (p: number) => INSET + (1 - p) * (H - 2 * INSET);
  return history.map(([x, p], i) => `${i ? 'L' : 'M'}${(x * (W - 2) + 1).toFixed(1)},${y(p).toFixed(1)}`).join('');
}

/** The batch's mean probability of each of the K classes (K = reads / batch). */
export function meanReads(reads: Float32Array, batch: number): number[] {
  const k = reads.length / batch;
  return Array.from({ length: k }, (_, d) => {
    let sum = 0;
    for (let b = 0; b < batch; b++) sum += reads[b * k + d];
    return sum / batch;
  });
}

const DIGITS = Array.from({ length: 10 }, (_, d) => String(d));

/** The names of what the meter reads for a model: its classes (the emoji's categories), else the digits (a text model's pictures). */
export const meterNames = (model: { classes: string[] }): string[] => (model.classes.length ? model.classes : DIGITS);

/** A bar's label: a category's first word ("Animals & Nature" → "Animals"); a digit as it is. */
const short = (name: string) => name.split(/[\s&]/)[0];

/** "It reads as…": which class x̂0 looks like to the eval's classifier now, and when the asked-for class became settled. */
export function Meter({ reads, batch, label, names, history }: Props) {
  const probs = meanReads(reads, batch);
  const best = probs.indexOf(Math.max(...probs));
  const target = label ?? best;
  const path = curvePath(history);
  const name = (d: number) => names[d] ?? String(d);
  return (
    <figure className="meter" data-testid="meter" data-probs={JSON.stringify(probs.map((p) => Number(p.toFixed(4))))}>
      <div className="bars" role="img" aria-label={`x̂0 reads as ${name(best)} (${Math.round(probs[best] * 100)} %)`}>
        {probs.map((p, d) => (
          <div key={d} className={`bar${d === target ? ' target' : ''}`} title={`${name(d)}: ${(p * 100).toFixed(1)} %`}>
            <div className="fill" style={{ height: `${Math.max(1, p * 100)}%` }} />
            <span>{short(name(d))}</span>
          </div>
        ))}
      </div>
      <div className="meter-plot">
        <span className="axis-y" aria-hidden="true">
          <span>100 %</span>
          <span>p({short(name(target))})</span>
          <span>0 %</span>
        </span>
        <svg
          viewBox={`0 0 ${W} ${H}`}
          preserveAspectRatio="none"
          role="img"
          aria-label={`probability of ${name(target)} over the run`}
          className="meter-curve"
        >
          <rect x={0} y={0} width={W} height={H} className="frame" />
          <line x1={0} x2={W} y1={INSET} y2={INSET} className="grid" />
          <line x1={0} x2={W} y1={H - INSET} y2={H - INSET} className="grid" />
          {path && <path d={path} className="curve" />}
        </svg>
        <span className="axis-x" aria-hidden="true">
          <span>first step</span>
          <span>last step</span>
        </span>
      </div>
      <figcaption data-testid="meter-text">
        reads as <strong>{name(best)}</strong> ({Math.round(probs[best] * 100)} %)
        {label !== null && best !== label ? `; ${name(label)}: ${Math.round(probs[label] * 100)} %` : ''} — the curve: p({name(target)})
        from the first step (left) to the last
      </figcaption>
    </figure>
  );
}
