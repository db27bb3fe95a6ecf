import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRng, permutation } from './rng';

const draw = (seed: number[], n = 20): number[] => {
  const r = createRng(...seed);
  return Array.from({ length: n }, () => r.next());
};

describe('createRng', () => {
  it('is deterministic for a seed tuple', () => {
    fc.assert(
      fc.property(fc.array(fc.integer(), { minLength: 1, maxLength: 3 }), (seed) => {
        expect(draw(seed)).toEqual(draw(seed));
      }),
    );
  });

  it('gives derived streams that differ from each other and from their parent', () => {
    const streams = [[7], [7, 0], [7, 1], [7, 0, 0], [7, 0, 1], [7, 1, 0], [8], [0, 7], [-0], [0]];
    const firsts = streams.map((s) => draw(s, 4).join());
    // -0 and 0 are the same seed; every other tuple is its own stream
    expect(firsts[8]).toBe(firsts[9]);
    expect(new Set(firsts.slice(0, 9)).size).toBe(9);
  });

  it('next() lies in [0, 1) and nextInt(n) in [0, n), both roughly uniform', () => {
    const r = createRng(42);
    const buckets = new Array<number>(10).fill(0);
    let outOfRange = 0;
    for (let i = 0; i < 20_000; i++) {
      const u = r.next();
      if (!(u >= 0 && u < 1)) outOfRange++;
      const k = r.nextInt(10);
      if (!(Number.isInteger(k) && k >= 0 && k < 10)) outOfRange++;
      buckets[k] = (buckets[k] ?? 0) + 1;
    }
    expect(outOfRange).toBe(0);
    for (const b of buckets) expect(Math.abs(b - 2000)).toBeLessThan(200);
  });

  it('shuffle permutes arrays and Int32Arrays in place', () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 0, max: 300 }), (seed, n) => {
        const p = permutation(n, createRng(seed));
        expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
        const words = Array.from({ length: n }, (_, i) => `w${i}`);
        createRng(seed).shuffle(words);
        expect(words.map((w) => Number(w.slice(1)))).toEqual(Array.from(p));
      }),
    );
  });

  it('rejects bad seeds and bounds', () => {
    expect(() => createRng()).toThrow('at least one seed');
    expect(() => createRng(1, NaN)).toThrow('seed component 1');
    expect(() => createRng(1).nextInt(0)).toThrow('positive integer');
    expect(() => createRng(1).nextInt(2.5)).toThrow('positive integer');
  });
});
