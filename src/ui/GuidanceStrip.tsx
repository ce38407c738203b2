import type { SampleFrame } from '../protocol';
import { ImageCanvas } from './ImageCanvas';
import { pick } from './pixels';

interface Props {
  frame: SampleFrame;
  guidances: number[];
  /** The class asked for, whose probability the meter reads under each image (null: a text model's prompt). */
  label: number | null;
  /** The meter's class names (meterNames). */
  names: string[];
}

/** The same noise at each guidance scale: what classifier-free guidance trades (with the meter's reading of each). */
export function GuidanceStrip({ frame, guidances, label, names }: Props) {
  const k = frame.reads ? frame.reads.length / frame.xt.batch : 0;
  return (
    <figure className="guidance-strip" data-testid="guidance-strip">
      <ol style={{ gridTemplateColumns: `repeat(${guidances.length}, minmax(0, 88px))` }}>
        {guidances.map((g, i) => (
          <li key={g}>
            <ImageCanvas image={pick(frame.xt, i)} displaySize={88} label={`guidance ${g}`} />
            <span>s = {g}</span>
            {frame.reads && label !== null && (
              <span data-testid="guidance-read">{`p(${names[label] ?? label}) ${Math.round(frame.reads[i * k + label] * 100)} %`}</span>
            )}
          </li>
        ))}
      </ol>
      <figcaption>
        One batched run (DDIM, 10 steps), the same noise for every picture: s = 0 ignores the {label === null ? 'prompt' : 'class'}, s = 1
        is the plain conditional model, larger s pushes harder towards it (ε = ε_uncond + s·(ε_cond − ε_uncond)).
      </figcaption>
    </figure>
  );
}
