import { describe, expect, it } from 'vitest';
import { EnsembleInputError } from './errors';
import { accuracyOf, argmaxLabels } from './labels';
import { matrix } from './arbitraries.test-util';

describe('argmaxLabels', () => {
  it('takes the row-wise argmax, lowest index on exact ties', () => {
    // row 0: 0.5 is the largest → 1; row 1: 0.4 = 0.4 → lowest index 0; row 2: 0.25 × 4 → 0
    const probs = matrix([0.2, 0.5, 0.3, 0], [0.4, 0.4, 0.2, 0], [0.25, 0.25, 0.25, 0.25]);
    expect(Array.from(argmaxLabels(probs, 4))).toEqual([1, 0, 0]);
  });

  it('rejects a length that is not a multiple of numClasses', () => {
    expect(() => argmaxLabels(new Float32Array(5), 2)).toThrow(EnsembleInputError);
    expect(() => argmaxLabels(new Float32Array(4), 0)).toThrow(/numClasses/);
  });
});

describe('accuracyOf', () => {
  it('counts matches', () => {
    // 3 of 4 equal → 0.75
    expect(accuracyOf(Int32Array.from([0, 1, 2, 2]), Int32Array.from([0, 1, 2, 0]))).toBe(0.75);
  });
});
