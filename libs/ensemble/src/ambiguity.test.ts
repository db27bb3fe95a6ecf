import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ambiguity, splitDiversity } from './ambiguity';
import { ensembleCase, matrix } from './arbitraries.test-util';
import { diversity } from './diversity';
import { scoreProbabilities } from './scoring';
import { combine } from './voting';

describe('ambiguity', () => {
  it('is the mean squared distance of the members from the soft vote (by hand)', () => {
    // Two members, two samples, two classes. Sample 0: [1,0] and [0,1] → mean [.5,.5], each member
    // at squared distance .25 + .25 = .5. Sample 1: both [.5,.5] → 0. A = (.5 + .5 + 0 + 0) / (2·2) = .25.
    const a = matrix([1, 0], [0.5, 0.5]);
    const b = matrix([0, 1], [0.5, 0.5]);
    expect(ambiguity([a, b], 2, 2)).toBeCloseTo(0.25, 12);
    // Identical members: no ambiguity; one member: none either.
    expect(ambiguity([a, a, a], 2, 2)).toBe(0);
    expect(ambiguity([a], 2, 2)).toBe(0);
  });

  it('is exactly what the soft vote gains in Brier score over the mean member', () => {
    fc.assert(
      fc.property(ensembleCase(), ({ rows, numClasses, members, truth }) => {
        const brier = (p: Float32Array) => scoreProbabilities(p, truth, numClasses).brier;
        const meanMember = members.reduce((s, p) => s + brier(p), 0) / members.length;
        const soft = brier(combine('soft', members, numClasses).scores);
        // float32 inputs, float64 sums: agreement to ~1e-6.
        expect(soft).toBeCloseTo(meanMember - ambiguity(members, rows, numClasses), 5);
      }),
    );
  });

  it('joins the label-based measures in splitDiversity', () => {
    const a = matrix([0.9, 0.1], [0.2, 0.8], [0.6, 0.4]);
    const b = matrix([0.3, 0.7], [0.1, 0.9], [0.7, 0.3]);
    const truth = Int32Array.from([0, 1, 1]);
    const report = splitDiversity([a, b], truth, 2);
    expect(report).toEqual({
      ...diversity([Int32Array.from([0, 1, 0]), Int32Array.from([1, 1, 0])], truth),
      ambiguity: ambiguity([a, b], 3, 2),
    });
  });
});
