import { describe, expect, it } from 'vitest';
import { askInMix } from '../../src/eval/mix';

describe('askInMix', () => {
  it('reuses asked samples of each category and asks for more only where the mix needs them', () => {
    const asked = [0, 1, 2, 0, 1, 2]; // two of each, in turn
    const mix = [1, 1, 1, 1, 0, 2]; // four of category 1
    const { extra, pick } = askInMix(asked, mix);
    expect(extra).toEqual([1, 1]);
    expect(pick).toEqual([1, 4, 6, 7, 0, 2]);
    const all = [...asked, ...extra];
    expect(pick.map((i) => all[i])).toEqual(mix);
    expect(new Set(pick).size).toBe(pick.length);
  });

  it('asks for a category the equal share never asked for', () => {
    expect(askInMix([0, 0], [3, 0])).toEqual({ extra: [3], pick: [2, 0] });
  });

  it('needs nothing extra when the asked samples already hold the mix', () => {
    const asked = Array.from({ length: 360 }, (_, i) => Math.floor(i / 40));
    const mix = [5, 5, 8, 0];
    const { extra, pick } = askInMix(asked, mix);
    expect(extra).toEqual([]);
    expect(pick).toEqual([200, 201, 320, 0]);
  });
});
