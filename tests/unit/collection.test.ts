import { describe, expect, it } from 'vitest';
import { DataCollection, PREVIEW_IMAGES, previewIndices } from '../../src/data/collection';

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

  it('the preview shows every class, an equal share each (issue 26, item 16); without classes, the first images', () => {
    // 60 pictures of 'a' first, then 3 of 'b', 2 unlabelled and one of a folder that is not a class
    const labels = [...new Array<string>(60).fill('a'), 'b', 'b', 'b', null, null, 'lone'];
    const shown = previewIndices(labels, ['a', 'b']);
    expect(shown).toEqual([...Array.from({ length: 16 }, (_, i) => i), 60, 61, 62, 63, 64, 65]);
    expect(previewIndices(labels, [])).toEqual(Array.from({ length: PREVIEW_IMAGES }, (_, i) => i));
    // more classes than the preview holds: one each, up to its size
    const many = Array.from({ length: 100 }, (_, i) => `c${String(i).padStart(3, '0')}`);
    expect(previewIndices(many, many)).toHaveLength(PREVIEW_IMAGES);
  });
});
