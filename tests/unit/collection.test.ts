import { describe, expect, it } from 'vitest';
import { DataCollection } from '../../src/data/collection';

const file = (name: string, bytes: Uint8Array<ArrayBuffer> | string) => ({ file: new File([bytes], name), path: name });

describe('DataCollection (building a training set from dropped files)', () => {
  it('a file that failed is not remembered as seen: offered again, it gets its own reason, not "a duplicate"', async () => {
    const c = new DataCollection();
    await c.add([file('notes.png', 'this is not a PNG')]);
    await c.add([file('notes-again.png', 'this is not a PNG')]);
    const reasons = c.summary().rejected.map((r) => `${r.name}: ${r.reason}`);
    expect(reasons).toHaveLength(2);
    expect(reasons.every((r) => /not an image/.test(r) && !/duplicate/.test(r))).toBe(true);
  });

  it('clear forgets rejections and the over-cap count, with no images kept', async () => {
    const c = new DataCollection();
    await c.add([file('empty.png', new Uint8Array(0))]);
    expect(c.summary().rejected).toHaveLength(1);
    expect(c.summary().count).toBe(0);
    c.clear();
    expect(c.summary().rejected).toEqual([]);
  });
});
