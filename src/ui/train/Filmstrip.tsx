import { useMemo } from 'react';
import type { ImageBatch } from '../../protocol';
import { ImageCanvas } from '../ImageCanvas';
import { groupImages } from '../pixels';

/** One EMA preview: the step it was sampled at, its images and what each was asked to be ('' for none). */
export interface FilmFrame {
  step: number;
  images: ImageBatch;
  asked: string[];
}

/**
 * Samples from the EMA weights over the run, the same noise each time. A conditional model's are a
 * table: a row per class (or caption) it was asked for, a column per step; an unconditional one's a strip.
 */
export function Filmstrip({ film }: { film: FilmFrame[] }) {
  // each preview's images grouped by what they were asked to be, once per film
  const columns = useMemo(() => film.map((f) => new Map(groupImages(f.images, f.asked).map((g) => [g.name, g.images]))), [film]);
  const rows = film.length > 0 && film[0].asked.some((a) => a !== '') ? [...columns[0].keys()] : null;
  if (!rows)
    return (
      <ol className="filmstrip" data-testid="filmstrip">
        {film.map((f) => (
          <li key={f.step}>
            <ImageCanvas image={f.images} displaySize={96} label={`samples at step ${f.step}`} />
            <span data-testid="film-step">step {f.step}</span>
          </li>
        ))}
      </ol>
    );
  return (
    <div className="filmstrip">
      <table className="film-table" data-testid="filmstrip">
        <thead>
          <tr>
            <th scope="col">asked for</th>
            {film.map((f) => (
              <th key={f.step} scope="col" data-testid="film-step">
                step {f.step}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((asked) => (
            <tr key={asked}>
              <th scope="row" data-testid="film-asked">
                {asked}
              </th>
              {film.map((f, i) => {
                const images = columns[i].get(asked);
                return (
                  <td key={f.step}>{images && <ImageCanvas image={images} displaySize={48} label={`“${asked}” at step ${f.step}`} />}</td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
