import { describe, expect, it } from 'vitest';
import { perClassResult } from './per-class';

describe('perClassResult', () => {
  it('scores the soft vote per class, by hand on four rows', () => {
    // Two members, three classes. Mean rows: [.6,.3,.1]→0, [.2,.5,.3]→1, [.45,.1,.45]→0 (tie: lowest), [.1,.1,.8]→2.
    const a = Float32Array.from([0.7, 0.2, 0.1, 0.2, 0.6, 0.2, 0.5, 0.1, 0.4, 0.1, 0.1, 0.8]);
    const b = Float32Array.from([0.5, 0.4, 0.1, 0.2, 0.4, 0.4, 0.4, 0.1, 0.5, 0.1, 0.1, 0.8]);
    const truth = Int32Array.from([0, 1, 2, 2]);
    const r = perClassResult([a, b], truth, 3, ['cat', 'dog', 'owl']);
    // class 0: 1 row, right; class 1: 1 row, right; class 2: 2 rows, one right (the tie went to 0).
    expect(r).toEqual({ names: ['cat', 'dog', 'owl'], testCount: [1, 1, 2], softVoteAccuracy: [1, 1, 0.5] });
  });

  it('names classes by index without names, and refuses a wrong number of names', () => {
    const p = Float32Array.from([1, 0, 0, 1]);
    expect(perClassResult([p], Int32Array.from([0, 1]), 2).names).toEqual(['0', '1']);
    expect(() => perClassResult([p], Int32Array.from([0, 1]), 2, ['x'])).toThrow(/1 class names for 2 classes/);
  });
});
