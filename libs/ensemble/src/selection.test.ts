import { describe, expect, it } from 'vitest';
import { applyCombiner, fitCombiner } from './combiners';
import { matrix } from './arbitraries.test-util';

/** Two classes, every row's truth is class 0, so each member is its column of true-class probabilities. */
const truth = Int32Array.from([0, 0, 0]);
const member = (...pTrue: number[]) => matrix(...pTrue.map((p) => [p, 1 - p]));
const A = member(0.9, 0.1, 0.6);
const B = member(0.2, 0.7, 0.5);
const C = member(0.5, 0.5, 0.3);

describe('selection (Caruana et al. 2004)', () => {
  it('reproduces a greedy sequence traced by hand', () => {
    // NLL of the mean of the picked members' true-class probabilities, each candidate per round:
    //   round 1 (alone):         A 0.972924  B 0.886420  C 0.863422 → C  (C: −(ln .5 + ln .5 + ln .3)/3)
    //   round 2 (C + ·)/2:       A 0.786385  B 0.825646  C 0.863422 → A  (A: means .7 .3 .45)
    //   round 3 (C + A + ·)/3:   A 0.804713  B 0.742332  C 0.792117 → B
    //   round 4:                 A 0.737658  B 0.745365  C 0.766177 → A
    //   round 5:                 A 0.747854  B 0.725611  C 0.751646 → B  (the lowest so far: keep all 5)
    const params = fitCombiner('selection', [A, B, C], truth, 2, { seed: 0, selection: { rounds: 5 } });
    expect(params.picks).toEqual([2, 0, 1, 0, 1]);
    expect(params.weights).toEqual([2 / 5, 2 / 5, 1 / 5]);
    const combined = applyCombiner(params, [A, B, C]);
    // Row 0: (2·0.9 + 2·0.2 + 0.5)/5 = 0.54.
    expect(combined[0]).toBeCloseTo(0.54, 6);
    expect(combined[1]).toBeCloseTo(0.46, 6);
  });

  it('keeps the shortest prefix with the lowest NLL', () => {
    // A alone: −ln 0.9; A again ties (not an improvement), adding B is worse: the picks stop at [A].
    const strong = member(0.9, 0.9, 0.9);
    const weak = member(0.5, 0.5, 0.5);
    const params = fitCombiner('selection', [weak, strong], truth, 2, { seed: 0, selection: { rounds: 4 } });
    expect(params.picks).toEqual([1]);
    expect(params.weights).toEqual([0, 1]);
  });
});
