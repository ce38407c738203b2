import { useMemo } from 'react';

interface Props {
  /** [step, loss] for every step so far. */
  losses: [number, number][];
}

const W = 360;
const H = 140;
const PAD = 40;

/** A tick label that fits the margin at any size: 0.25, 3.1, 1e12. */
const tick = (v: number) => (v >= 100 || v < 0.01 ? v.toExponential(0).replace('+', '') : v.toPrecision(2));
const MAX_POINTS = 400;

/** The training loss on a log scale: every step (thin, thinned out to MAX_POINTS) and its running average. */
export function LossChart({ losses }: Props) {
  const { raw, smooth, lo, hi, last } = useMemo(() => {
    const finite = losses.filter(([, l]) => Number.isFinite(l) && l > 0);
    if (finite.length === 0) return { raw: '', smooth: '', lo: 0, hi: 0, last: 0 };
    let avg = finite[0][1];
    const smoothed = finite.map(([s, l]) => {
      avg = 0.95 * avg + 0.05 * l; // exponential moving average
      return [s, avg] as [number, number];
    });
    const logs = finite.map(([, l]) => Math.log10(l));
    const lo = Math.floor(Math.min(...logs) * 4) / 4;
    const hi = Math.ceil(Math.max(...logs) * 4) / 4 + 0.01;
    const maxStep = finite[finite.length - 1][0];
    const minStep = finite[0][0];
    const x = (s: number) => PAD + ((s - minStep) / Math.max(1, maxStep - minStep)) * (W - PAD - 8);
    const y = (l: number) => 6 + (1 - (Math.log10(l) - lo) / (hi - lo)) * (H - PAD - 6);
    const every = Math.max(1, Math.ceil(finite.length / MAX_POINTS));
    const path = (pts: [number, number][]) =>
      pts
        .filter((_, i) => i % every === 0 || i === pts.length - 1)
        .map(([s, l], i) => `${i ? 'L' : 'M'}${x(s).toFixed(1)},${y(l).toFixed(1)}`)
        .join('');
    return { raw: path(finite), smooth: path(smoothed), lo, hi, last: avg };
  }, [losses]);
  return (
    <figure className="plot loss-chart">
      <svg
        width={W}
        height={H}
        role="img"
        aria-label={losses.length ? `training loss, running average ${last.toPrecision(3)}` : 'training loss (no steps yet)'}
        data-testid="loss-chart"
      >
        <line x1={PAD} y1={H - PAD} x2={W - 8} y2={H - PAD} className="axis" />
        <line x1={PAD} y1={6} x2={PAD} y2={H - PAD} className="axis" />
        {raw && (
          <>
            <text x={PAD - 4} y={12} textAnchor="end" className="tick" data-testid="loss-top">
              {tick(10 ** hi)}
            </text>
            <text x={PAD - 4} y={H - PAD} textAnchor="end" className="tick">
              {tick(10 ** lo)}
            </text>
            <text x={W - 8} y={H - PAD + 14} textAnchor="end" className="tick">
              step {losses[losses.length - 1][0]}
            </text>
            <path d={raw} className="curve raw" />
            <path d={smooth} className="curve smooth" />
          </>
        )}
      </svg>
      <figcaption>
        loss (log scale): <span className="key raw">each step</span> <span className="key smooth">running average</span>
      </figcaption>
    </figure>
  );
}
