import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { GaussianRng, drawNoise } from '../../src/diffusion';

describe('GaussianRng', () => {
  it('the same seed gives the same numbers; another seed different ones', () => {
    expect(Array.from(new GaussianRng(5).normalArray(100))).toEqual(Array.from(new GaussianRng(5).normalArray(100)));
    expect(Array.from(new GaussianRng(5).normalArray(100))).not.toEqual(Array.from(new GaussianRng(6).normalArray(100)));
  });

  it('draws standard normals (mean 0, variance 1, symmetric tails)', () => {
    const n = 200000;
    const a = new GaussianRng(11).normalArray(n);
    let s = 0;
    let s2 = 0;
    let beyond2 = 0;
    for (const v of a) {
      s += v;
      s2 += v * v;
      if (Math.abs(v) > 2) beyond2++;
    }
    expect(Math.abs(s / n)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(s2 / n - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
    // P(|z| > 2) = 0.0455
    expect(Math.abs(beyond2 / n - 0.0455)).toBeLessThan(0.003);
  });

  it('uniforms are in (0, 1) and evenly spread', () => {
    const r = new GaussianRng(1);
    const bins = new Array<number>(10).fill(0);
    for (let i = 0; i < 100000; i++) {
      const u = r.uniform();
      expect(u > 0 && u < 1).toBe(true);
      bins[Math.floor(u * 10)]++;
    }
    for (const b of bins) expect(Math.abs(b - 10000)).toBeLessThan(500);
  });

  it('drawNoise passes a tensor through and checks its shape', () => {
    const z = tf.zeros([1, 2]);
    expect(drawNoise(z, [1, 2])).toBe(z);
    expect(() => drawNoise(z, [2, 2])).toThrow(/shape/);
    const drawn = drawNoise(new GaussianRng(0), [3, 3]);
    expect(drawn.shape).toEqual([3, 3]);
    tf.dispose([z, drawn]);
    expect(() => new GaussianRng(0.5)).toThrow(/integer/);
  });
});
