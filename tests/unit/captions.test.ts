import { describe, expect, it } from 'vitest';
import { captionedDigitsExample, EXAMPLE_CANVAS } from '../../src/data/captioned-example';
import { parsePrompt } from '../../src/data/captioned-digits';
import { DataCollection } from '../../src/data/collection';
import { DIGIT_PIXELS } from '../../src/data/mnist-split';
import { assignCaptions, captionFromFileName, isCaptionsFile, MAX_CAPTION_WORDS } from '../../src/data/captions';

const pictures = ['a.png', 'b.png', 'c.png'];

describe('captions from file names', () => {
  it('drops the extension and a trailing number, and reads - and _ as spaces', () => {
    expect(captionFromFileName('a-small-3_12.png')).toBe('a small 3');
    expect(captionFromFileName('pets/big_red-dog.jpeg')).toBe('big red dog');
    expect(captionFromFileName('cat-7.png')).toBe('cat');
    // a number that is the whole name stays: it is the caption
    expect(captionFromFileName('7.png')).toBe('7');
    expect(assignCaptions(['x/a-small-3_12.png', 'two_cats.png'], [])).toEqual({ captions: ['a small 3', 'two cats'], problems: [] });
  });

  it('knows the captions files by name, in any folder', () => {
    expect(isCaptionsFile('captions.txt')).toBe(true);
    expect(isCaptionsFile('set/Captions.CSV')).toBe(true);
    expect(isCaptionsFile('set/captions.jsonl')).toBe(true);
    expect(isCaptionsFile('notes.txt')).toBe(false);
    expect(isCaptionsFile('captions.png')).toBe(false);
  });
});

describe('captions files', () => {
  it('reads the three formats, each line beside its captions file or by bare name', () => {
    const txt = { path: 'set/captions.txt', text: '\uFEFFa.png\ta red disc\r\n\nb.png: a bar, thin\n' };
    expect(assignCaptions(['set/a.png', 'set/b.png'], [txt])).toEqual({ captions: ['a red disc', 'a bar, thin'], problems: [] });
    const csv = { path: 'captions.csv', text: 'a.png,a red disc\n"b.png","a bar, ""thin"""\n' };
    expect(assignCaptions(['set/a.png', 'set/b.png'], [csv]).captions).toEqual(['a red disc', 'a bar, "thin"']);
    const jsonl = { path: 'captions.jsonl', text: '{"file": "a.png", "caption": "a red disc"}\n{"file": "./b.png", "caption": "a bar"}' };
    expect(assignCaptions(['a.png', 'b.png'], [jsonl]).captions).toEqual(['a red disc', 'a bar']);
  });

  it('names an unreadable line by its number and skips it', () => {
    const r = assignCaptions(pictures, [
      { path: 'captions.txt', text: 'a.png\tone\nno separator here\nb.png\ttwo\nc.png\tthree' },
      { path: 'captions.jsonl', text: '{"file": "a.png"}\nnot json' },
      { path: 'captions.csv', text: 'a.png\n"b.png,two' },
    ]);
    expect(r.problems).toEqual(
      expect.arrayContaining([
        "captions.txt line 2 needs a file name, then a tab or ':', then the caption; it is skipped",
        'captions.jsonl line 1 needs an object with a "file" and a "caption" string; it is skipped',
        'captions.jsonl line 2 is not JSON; it is skipped',
        'captions.csv line 1 needs a file name, a comma, then the caption; it is skipped',
        'captions.csv line 2 has a quote that is never closed; it is skipped',
      ]),
    );
    expect(r.captions).toEqual(['one', 'two', 'three']);
  });

  it('an empty caption: named with its line, the picture captioned by its file name', () => {
    const r = assignCaptions(['red-disc.png', 'b.png'], [{ path: 'captions.txt', text: 'red-disc.png:   \nb.png: a bar' }]);
    expect(r.problems).toEqual(['captions.txt line 1: the caption of red-disc.png is empty; it is captioned by its file name instead']);
    expect(r.captions).toEqual(['red disc', 'a bar']);
  });

  it('a caption longer than the model reads: the limit said, the rest cut', () => {
    const long = Array.from({ length: MAX_CAPTION_WORDS + 3 }, (_, i) => `w${i}`).join(' ');
    const r = assignCaptions(['a.png'], [{ path: 'captions.txt', text: `a.png\t${long}` }]);
    expect(r.problems).toEqual([
      "the caption of a.png (captions.txt line 1) has 18 words; a model trained here reads 15, so 'w15 w16 w17' is cut",
    ]);
    expect(r.captions[0].split(' ')).toHaveLength(MAX_CAPTION_WORDS);
  });

  it('a line naming a picture that was not added: named, skipped', () => {
    const r = assignCaptions(pictures, [{ path: 'captions.txt', text: 'a.png\tone\nb.png\ttwo\nc.png\tthree\ncat.png\ta cat' }]);
    expect(r.problems).toEqual(['captions.txt line 4 names cat.png, which is not among the pictures; it is skipped']);
    expect(r.captions).toEqual(['one', 'two', 'three']);
  });

  it('a captions file that names no picture at all: one message, every picture captioned by its file name', () => {
    const r = assignCaptions(['red-disc.png', 'blue-bar.png'], [{ path: 'captions.txt', text: 'x.png\tone\ny.png\ttwo' }]);
    expect(r.problems).toEqual([
      'captions.txt names none of the 2 pictures (it names x.png, y.png); check the file names, or that the pictures were added',
    ]);
    expect(r.captions).toEqual(['red disc', 'blue bar']);
    expect(assignCaptions(['a.png'], [{ path: 'captions.txt', text: '\n\n' }]).problems).toEqual(['captions.txt has no captions in it']);
  });

  it('pictures the captions file leaves out: a few named, captioned by their file names', () => {
    const many = ['a.png', 'b-one.png', 'c-two.png', 'd-three.png', 'e-four.png'];
    const r = assignCaptions(many, [{ path: 'captions.txt', text: 'a.png\tan a' }]);
    expect(r.problems).toEqual([
      '4 pictures have no caption in captions.txt (b-one.png, c-two.png, d-three.png and 1 more); they are captioned by their file names',
    ]);
    expect(r.captions).toEqual(['an a', 'b one', 'c two', 'd three', 'e four']);
  });

  it('a picture captioned twice keeps its first caption; a name without words trains as the empty prompt', () => {
    const r = assignCaptions(['a.png', '_12.png'], [{ path: 'captions.txt', text: 'a.png\tfirst\na.png\tsecond' }]);
    expect(r.problems).toEqual([
      'captions.txt line 2 captions a.png again (captions.txt line 1 did already); the first is used',
      '1 picture has no caption in captions.txt (_12.png); it is captioned by its file name',
      '_12.png has no words in its caption; it trains as the empty prompt',
    ]);
    expect(r.captions).toEqual(['first', '']);
  });

  it('many bad lines of a kind are summed up after a few', () => {
    const text = ['a.png\tone', ...Array.from({ length: 9 }, (_, i) => `gone${i}.png\tx`)].join('\n');
    const r = assignCaptions(['a.png'], [{ path: 'captions.txt', text }]);
    expect(r.problems).toHaveLength(6);
    expect(r.problems[5]).toBe('captions.txt: 4 more lines name pictures that were not added');
  });
});

describe('captions in a training set', () => {
  const item = (name: string, caption?: string) => ({ name, label: null, pixels: new Uint8Array(4), caption });

  it('a captions file dropped before the pictures says nothing yet, and turns captions on', async () => {
    const c = new DataCollection();
    c.clear({ size: 2, channels: 1, fit: 'crop' });
    await c.add([{ file: new File(['a.png\ta disc'], 'captions.txt'), path: 'captions.txt' }]);
    expect(c.captioned).toBe(true);
    // not decoded as a picture
    expect(c.summary().rejected).toEqual([]);
    expect(c.summary().captions).toMatchObject({ source: 'captions.txt', problems: [], words: 0, maxWords: MAX_CAPTION_WORDS });
  });

  it('images with captions of their own keep them; the summary shows them and counts the words', () => {
    const c = new DataCollection();
    c.replace({ size: 2, channels: 1, fit: 'crop' }, [item('x', 'a small 3'), item('y', 'a large three')], 'an example');
    expect(c.summary().captions).toMatchObject({
      source: 'the set itself',
      preview: ['a small 3', 'a large three'],
      words: 5,
      problems: [],
    });
    c.setCaptioned(false);
    expect(c.summary().captions).toBeNull();
    c.setCaptioned(true);
    expect(c.summary().captions!.preview).toEqual(['a small 3', 'a large three']);
    // they have no files to decode again
    return expect(c.setOptions({ size: 4, channels: 1, fit: 'crop' })).rejects.toThrow('an example');
  });

  it('a set without captions is not captioned', () => {
    const c = new DataCollection();
    c.replace({ size: 2, channels: 1, fit: 'crop' }, [item('x')], 'saved');
    expect(c.captioned).toBe(false);
    expect(c.summary().captions).toBeNull();
  });
});

describe('the captioned digits example', () => {
  it('draws the first digits of each class on 32×32 pictures, each captioned with its digit, the same every time', () => {
    // 3 "digits" per class: a filled square of ink in a 28×28 frame
    const digit = Uint8Array.from({ length: DIGIT_PIXELS }, (_, i) =>
      Math.abs((i % 28) - 14) < 5 && Math.abs(Math.floor(i / 28) - 14) < 8 ? 255 : 0,
    );
    const bytes = new Uint8Array(30 * DIGIT_PIXELS);
    for (let k = 0; k < 30; k++) bytes.set(digit, k * DIGIT_PIXELS);
    const items = captionedDigitsExample(
      bytes,
      Array.from({ length: 10 }, () => 3),
      2,
    );
    expect(items).toHaveLength(20);
    expect(new Set(items.map((i) => i.name)).size).toBe(20);
    for (const item of items) {
      expect(item.pixels).toHaveLength(EXAMPLE_CANVAS * EXAMPLE_CANVAS);
      expect(Math.max(...item.pixels)).toBeGreaterThan(200);
      expect(parsePrompt(item.caption!).digit).toBe(Number(item.name.match(/^digit (\d)/)![1]));
    }
    expect(
      captionedDigitsExample(
        bytes,
        Array.from({ length: 10 }, () => 3),
        2,
      ),
    ).toEqual(items);
  });
});
