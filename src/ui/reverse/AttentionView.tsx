import { useEffect, useRef } from 'react';
import { displayStep } from '../../diffusion/timestep';
import type { SampleFrame } from '../../protocol';
import { heatRGBA, whereAttended, wordMap } from '../../text/attention-maps';

/** One word's heat map, drawn at the model's resolution and scaled up crisp. */
function WordMap({ rgba, size, word }: { rgba: Uint8ClampedArray; size: number; word: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const ctx = ref.current?.getContext('2d', { willReadFrequently: true });
    if (!ctx) return;
    ctx.canvas.width = size;
    ctx.canvas.height = size;
    ctx.putImageData(new ImageData(rgba as Uint8ClampedArray<ArrayBuffer>, size, size), 0, 0);
  }, [rgba, size]);
  return (
    <canvas ref={ref} className="pixels" style={{ width: 96, height: 96 }} role="img" aria-label={`where '${word}' steers the picture`} />
  );
}

/**
 * Cross-attention per word, live: for each token the model read, how much each pixel of the first
 * image attended to it (averaged over heads and layers), over the current x̂0 — and where its mass lies.
 */
export function AttentionView({ shown }: { shown: SampleFrame | null }) {
  const a = shown?.attention;
  if (!shown || !a) return null;
  const picture = shown.predOriginal.values.subarray(0, a.size * a.size * shown.predOriginal.channels);
  return (
    <section className="attention" aria-labelledby="attention-title" data-testid="attention-maps">
      <h3 id="attention-title">
        What each word steers, at t = <span data-testid="attention-t">{displayStep(shown.t)}</span>
      </h3>
      <p className="muted">
        Cross-attention of every pixel to every word it read (first image, averaged over heads and layers), over x̂<sub>0</sub>.
        &lsquo;start&rsquo; is where a pixel looks when no word concerns it.
      </p>
      <ol className="word-maps">
        {a.words.map((word, i) => {
          const map = wordMap(a, i);
          const share = map.reduce((s, v) => s + v, 0) / map.length;
          const label = i === 0 ? 'start' : word;
          const where = whereAttended(map, a.size);
          return (
            <li key={`${i}-${word}`} data-testid={`attention-word-${i}`} data-word={label} data-where={where}>
              <WordMap rgba={heatRGBA(map, shown.predOriginal.channels === 1 ? picture : null)} size={a.size} word={label} />
              <span>
                <strong>{label}</strong> {(100 * share).toFixed(0)}%
              </span>
              <span className="muted">{where}</span>
            </li>
          );
        })}
      </ol>
    </section>
  );
}
