import { useMemo } from 'react';
import { makeSchedule, snr } from '../diffusion/schedule';
import type { Timestep } from '../diffusion/timestep';

interface Props {
  /** The timestep of the marker, or null for none (the clean image). */
  t: Timestep | null;
  numTrainTimesteps: number;
  /** What to plot over t: ᾱ_t, or log10 SNR. */
  quantity: 'alphaCumprod' | 'logSnr';
}

const W = 220;
const H = 110;
const PAD = 24;
const x = (i: number, T: number) => PAD + (i / (T - 1)) * (W - PAD - 6);

/** A small SVG plot of ᾱ_t or log₁₀ SNR_t for the linear and cosine schedules, with a marker at t. */
export function SchedulePlot({ t, numTrainTimesteps: T, quantity }: Props) {
  // the curves depend only on T and the quantity; only the marker moves with t
  const { paths, lo, hi } = useMemo(() => {
    const curves = (['linear', 'cosine'] as const).map((betaSchedule) => {
      const schedule = makeSchedule({ numTrainTimesteps: T, betaSchedule });
      const value = (t: number) => (quantity === 'alphaCumprod' ? schedule.alphasCumprod[t] : Math.log10(snr(schedule, t)));
      return { betaSchedule, values: Array.from({ length: T }, (_, t) => value(t)) };
    });
    const all = curves.flatMap((c) => c.values);
    const [lo, hi] = quantity === 'alphaCumprod' ? [0, 1] : [Math.max(-6, Math.min(...all)), Math.min(5, Math.max(...all))];
    const y = (v: number) => 6 + (1 - (Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo)) * (H - PAD - 6);
    const paths = curves.map((c) => ({
      betaSchedule: c.betaSchedule,
      d: c.values.map((v, i) => `${i ? 'L' : 'M'}${x(i, T).toFixed(1)},${y(v).toFixed(1)}`).join(''),
    }));
    return { paths, lo, hi };
  }, [T, quantity]);
  const title = quantity === 'alphaCumprod' ? 'ᾱ_t' : 'log₁₀ SNR_t';
  const caption =
    quantity === 'alphaCumprod' ? (
      <>
        ᾱ<sub>t</sub>
      </>
    ) : (
      <>
        log₁₀ SNR<sub>t</sub>
      </>
    );
  return (
    <figure className="plot">
      <svg width={W} height={H} role="img" aria-label={`${title} over t for the linear and cosine schedules`}>
        <line x1={PAD} y1={H - PAD} x2={W - 6} y2={H - PAD} className="axis" />
        <line x1={PAD} y1={6} x2={PAD} y2={H - PAD} className="axis" />
        <text x={PAD - 4} y={12} textAnchor="end" className="tick">
          {hi.toFixed(0)}
        </text>
        <text x={PAD - 4} y={H - PAD} textAnchor="end" className="tick">
          {lo.toFixed(0)}
        </text>
        <text x={W - 6} y={H - PAD + 14} textAnchor="end" className="tick">
          t = {T}
        </text>
        {paths.map((p) => (
          <path key={p.betaSchedule} d={p.d} className={`curve ${p.betaSchedule}`} />
        ))}
        {t !== null && <line x1={x(t, T)} x2={x(t, T)} y1={6} y2={H - PAD} className="marker" />}
      </svg>
      <figcaption>
        {caption}: <span className="key linear">linear</span> <span className="key cosine">cosine</span>
      </figcaption>
    </figure>
  );
}
