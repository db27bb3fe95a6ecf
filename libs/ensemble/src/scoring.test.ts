import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matrix, probabilities } from './arbitraries.test-util';
import { scoreProbabilities } from './scoring';

// Four samples, three classes:
//   probs                 y   argmax  hit  confidence
//   [0.7, 0.2,  0.1 ]     0   0       1    0.7
//   [0.2, 0.5,  0.3 ]     2   1       0    0.5
//   [0.1, 0.1,  0.8 ]     2   2       1    0.8
//   [0.4, 0.35, 0.25]     1   0       0    0.4
const probs = matrix([0.7, 0.2, 0.1], [0.2, 0.5, 0.3], [0.1, 0.1, 0.8], [0.4, 0.35, 0.25]);
const truth = Int32Array.from([0, 2, 2, 1]);

describe('scoreProbabilities', () => {
  it('computes accuracy, NLL and Brier by hand', () => {
    const s = scoreProbabilities(probs, truth, 3);
    // accuracy = 2/4
    expect(s.accuracy).toBe(0.5);
    // NLL = −(ln 0.7 + ln 0.3 + ln 0.8 + ln 0.35)/4 = (0.356675 + 1.203973 + 0.223144 + 1.049822)/4
    expect(s.nll).toBeCloseTo(2.833614 / 4, 5);
    // Brier: row 0 (0.7−1)² + 0.2² + 0.1² = 0.14; row 1 0.2² + 0.5² + (0.3−1)² = 0.78;
    //        row 2 0.01 + 0.01 + 0.04 = 0.06; row 3 0.4² + (0.35−1)² + 0.25² = 0.645 → 1.625/4
    expect(s.brier).toBeCloseTo(0.40625, 6);
  });

  it('computes ECE over 15 bins by hand', () => {
    // The four confidences fall in four different bins, so ECE = mean |hit − confidence|
    // = (|1−0.7| + |0−0.5| + |1−0.8| + |0−0.4|)/4 = 1.4/4
    expect(scoreProbabilities(probs, truth, 3).ece).toBeCloseTo(0.35, 6);
  });

  it('puts a confidence on a bin edge in the lower bin: bins are (lo, hi]', () => {
    // 2 bins (0, 0.5] and (0.5, 1]: 0.5 belongs to the first.
    // bin 1: {0.5 miss, 0.4 miss} acc 0, conf 0.45 → 2/4 · 0.45 = 0.225
    // bin 2: {0.7 hit, 0.8 hit}   acc 1, conf 0.75 → 2/4 · 0.25 = 0.125     ECE = 0.35
    // (were 0.5 in bin 2: 1/4·0.4 + 3/4·|2/3 − 2/3| = 0.1)
    expect(scoreProbabilities(probs, truth, 3, 2).ece).toBeCloseTo(0.35, 6);
    // 1 bin: |acc − mean confidence| = |0.5 − 2.4/4| = 0.1
    expect(scoreProbabilities(probs, truth, 3, 1).ece).toBeCloseTo(0.1, 6);
  });

  it('scores given labels instead of the argmax (hard vote)', () => {
    // predicted [0, 2, 2, 0]: rows 0, 1, 2 hit → accuracy 0.75; 1 bin: |0.75 − 0.6| = 0.15
    const s = scoreProbabilities(probs, truth, 3, 1, Int32Array.from([0, 2, 2, 0]));
    expect(s.accuracy).toBe(0.75);
    expect(s.ece).toBeCloseTo(0.15, 6);
    expect(s.nll).toBeCloseTo(2.833614 / 4, 5);
  });

  it('gives 0 loss for one-hot predictions and clamps p_true = 0 at 1e-12', () => {
    const perfect = scoreProbabilities(matrix([1, 0], [0, 1]), Int32Array.from([0, 1]), 2);
    expect(perfect).toEqual({ accuracy: 1, nll: 0, brier: 0, ece: 0 });
    // one sample, p_true = 0: NLL = −ln 1e-12 = 27.631021; Brier = 1² + 1² = 2; ECE = |0 − 1| = 1
    const wrong = scoreProbabilities(matrix([1, 0]), Int32Array.from([1]), 2);
    expect(wrong.nll).toBeCloseTo(27.631021, 5);
    expect(wrong.brier).toBe(2);
    expect(wrong.ece).toBe(1);
  });

  it('rejects bad input with a reason', () => {
    expect(() => scoreProbabilities(probs, Int32Array.from([0, 1, 3, 0]), 3)).toThrow(/sample 2 has label 3/);
    expect(() => scoreProbabilities(probs, Int32Array.from([0, 1, 2]), 3)).toThrow(
      /length 12 does not match 3/,
    );
    expect(() => scoreProbabilities(new Float32Array(0), new Int32Array(0), 3)).toThrow(/zero samples/);
    expect(() => scoreProbabilities(probs, truth, 3, 0)).toThrow(/bins must be a positive integer/);
    expect(() => scoreProbabilities(probs, truth, 3, 15, Int32Array.from([0]))).toThrow(/1 predicted labels/);
    expect(() => scoreProbabilities(matrix([0.5, Number.NaN]), Int32Array.from([0]), 2)).toThrow(/NaN/);
  });

  it('keeps every measure in its range (property)', () => {
    const scenario = fc
      .record({ rows: fc.integer({ min: 1, max: 20 }), c: fc.integer({ min: 2, max: 6 }) })
      .chain(({ rows, c }) =>
        fc.record({
          c: fc.constant(c),
          probs: probabilities(rows, c),
          truth: fc.array(fc.integer({ min: 0, max: c - 1 }), { minLength: rows, maxLength: rows }),
          bins: fc.integer({ min: 1, max: 20 }),
        }),
      );
    fc.assert(
      fc.property(scenario, ({ c, probs, truth, bins }) => {
        const s = scoreProbabilities(probs, Int32Array.from(truth), c, bins);
        expect(s.accuracy).toBeGreaterThanOrEqual(0);
        expect(s.accuracy).toBeLessThanOrEqual(1);
        expect(s.nll).toBeGreaterThanOrEqual(0);
        expect(s.nll).toBeLessThanOrEqual(-Math.log(1e-12) + 1e-9);
        expect(s.brier).toBeGreaterThanOrEqual(0);
        expect(s.brier).toBeLessThanOrEqual(2 + 1e-6);
        expect(s.ece).toBeGreaterThanOrEqual(0);
        expect(s.ece).toBeLessThanOrEqual(1 + 1e-6);
      }),
      { numRuns: 150 },
    );
  });
});
