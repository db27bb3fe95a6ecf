import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { limitSplit, prepareRunData, splitValidation, subsetSplit } from './split';
import type { Split } from './types';

/** A split whose row i has label i and features [i, i + 0.5] (so rows can be traced). */
function traced(count: number): Split {
  const x = new Float32Array(count * 2);
  for (let i = 0; i < count; i++) x.set([i, i + 0.5], i * 2);
  return { x, y: Int32Array.from({ length: count }, (_, i) => i), count };
}

const consistent = (s: Split): void => {
  expect(s.y.length).toBe(s.count);
  expect(s.x.length).toBe(s.count * 2);
  s.y.forEach((id, r) => expect([s.x[2 * r], s.x[2 * r + 1]]).toEqual([id, id + 0.5]));
};

describe('splitValidation', () => {
  it('partitions train into train and validation, seeded, in original order', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 500 }),
        fc.double({ min: 0.01, max: 0.99 }),
        fc.integer(),
        (n, f, seed) => {
          const k = Math.round(n * f);
          fc.pre(k >= 1 && k < n);
          const { train, validation } = splitValidation(traced(n), f, seed);
          expect(validation.count).toBe(k);
          expect(train.count).toBe(n - k);
          consistent(train);
          consistent(validation);
          const all = [...train.y, ...validation.y].sort((a, b) => a - b);
          expect(all).toEqual(Array.from({ length: n }, (_, i) => i));
          expect([...validation.y]).toEqual([...validation.y].sort((a, b) => a - b));
          expect(splitValidation(traced(n), f, seed).validation.y).toEqual(validation.y);
        },
      ),
    );
  });

  it('depends on the seed', () => {
    const a = splitValidation(traced(1000), 0.1, 1).validation.y;
    const b = splitValidation(traced(1000), 0.1, 2).validation.y;
    expect(a).not.toEqual(b);
  });

  it('rejects fractions that leave a part empty', () => {
    expect(() => splitValidation(traced(10), 0, 1)).toThrow('(0, 1)');
    expect(() => splitValidation(traced(10), 1, 1)).toThrow('(0, 1)');
    expect(() => splitValidation(traced(10), 0.01, 1)).toThrow('leaves 0 validation');
  });
});

describe('limitSplit and subsetSplit', () => {
  it('keeps the first rows without a seed, a seeded subset with one', () => {
    const s = traced(100);
    expect(Array.from(limitSplit(s, 5).y)).toEqual([0, 1, 2, 3, 4]);
    const r = limitSplit(s, 10, 3);
    consistent(r);
    expect(r.count).toBe(10);
    expect(new Set(r.y).size).toBe(10);
    expect(limitSplit(s, 10, 3)).toEqual(r);
    expect(limitSplit(s, 10, 4)).not.toEqual(r);
    expect(limitSplit(s, 100)).toBe(s);
    expect(limitSplit(s, 1000, 1)).toBe(s);
    expect(() => limitSplit(s, 0)).toThrow('positive integer');
  });

  it('gathers rows in the given order and checks indices', () => {
    const sub = subsetSplit(traced(5), [4, 0, 4]);
    consistent(sub);
    expect(Array.from(sub.y)).toEqual([4, 0, 4]);
    expect(() => subsetSplit(traced(5), [5])).toThrow('row index 5');
  });
});

describe('prepareRunData', () => {
  it('limits, then holds out validation rows, and leaves the test split alone', () => {
    const train = {
      x: Float32Array.from({ length: 200 }, (_, i) => i),
      y: Int32Array.from({ length: 100 }, (_, i) => i),
      count: 100,
    };
    const test = { x: new Float32Array(4), y: new Int32Array(2), count: 2 };
    const a = prepareRunData({ train, test }, { seed: 3, validationFraction: 0.25, trainLimit: 40 });
    expect(a.train.count + a.validation.count).toBe(40);
    expect(a.validation.count).toBe(10);
    expect(a.test).toBe(test);
    const seen = new Set([...a.train.y, ...a.validation.y]);
    expect(seen.size).toBe(40);
    const b = prepareRunData({ train, test }, { seed: 3, validationFraction: 0.25, trainLimit: 40 });
    expect(b.validation.y).toEqual(a.validation.y);
    const full = prepareRunData({ train, test }, { seed: 3, validationFraction: 0.1 });
    expect(full.train.count).toBe(90);
  });
});
