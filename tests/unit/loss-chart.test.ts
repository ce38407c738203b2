import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { LossChart } from '../../src/ui/LossChart';

/** The axis labels of the loss chart, rendered to markup (no browser needed). */
function ticks(losses: [number, number][]): string[] {
  const html = renderToStaticMarkup(createElement(LossChart, { losses }));
  return [...html.matchAll(/<text[^>]*class="tick"[^>]*>([^<]*)</g)].map((m) => m[1]);
}

describe('the loss chart', () => {
  it('labels its axis in a few characters at any loss, so the top label is never cut off', () => {
    const [top, bottom] = ticks([
      [1, 0.98],
      [2, 3.2e13],
      [3, 5.6e12],
    ]);
    expect(top).toBe('6e13'); // 10^(⌈4·log10 max⌉/4 + 0.01)
    expect(bottom).toBe('0.56');
    const [smallTop, smallBottom] = ticks([
      [1, 0.05],
      [2, 0.004],
    ]);
    expect(smallTop).toBe('0.058');
    expect(smallBottom).toBe('3e-3');
  });
});
