import { describe, expect, it } from 'vitest';
import { EnsembleInputError } from './errors';
import { matrix } from './arbitraries.test-util';
import { validateMembers, validateProbabilities, validateWeights } from './validate';

describe('validateProbabilities', () => {
  const good = matrix([0.2, 0.8], [0.5, 0.5], [1, 0]);

  it('accepts rows that sum to 1', () => {
    expect(() => validateProbabilities(good, 3, 2)).not.toThrow();
    expect(() => validateProbabilities(new Float32Array(0), 0, 2)).not.toThrow();
  });

  it('names the wrong length', () => {
    expect(() => validateProbabilities(good, 4, 2)).toThrow(/length 6 does not match 4 rows × 2 classes = 8/);
  });

  it('names the row and class of a NaN, an infinity or a negative value', () => {
    expect(() => validateProbabilities(matrix([0.5, 0.5], [Number.NaN, 1]), 2, 2)).toThrow(
      /row 1, class 0 is NaN/,
    );
    expect(() => validateProbabilities(matrix([0.5, Infinity]), 1, 2)).toThrow(/row 0, class 1 is infinite/);
    expect(() => validateProbabilities(matrix([1.5, -0.5]), 1, 2)).toThrow(/row 0, class 1 is negative/);
  });

  it('names a row that does not sum to 1 and honours the tolerance', () => {
    const off = matrix([0.5, 0.5], [0.6, 0.39]);
    expect(() => validateProbabilities(off, 2, 2)).toThrow(/row 1 sums to 0\.99.*expected 1 ± 0\.001/);
    expect(() => validateProbabilities(off, 2, 2, 0.02)).not.toThrow();
  });

  it('rejects non-Float32Array input and numClasses < 2', () => {
    expect(() => validateProbabilities([0.5, 0.5] as unknown as Float32Array, 1, 2)).toThrow(/Float32Array/);
    expect(() => validateProbabilities(matrix([1]), 1, 1)).toThrow(/numClasses must be an integer ≥ 2/);
  });

  it('throws EnsembleInputError with a stable code', () => {
    try {
      validateProbabilities(good, 1, 2);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(EnsembleInputError);
      expect((err as EnsembleInputError).code).toBe('ENSEMBLE_INPUT_INVALID');
      expect((err as EnsembleInputError).name).toBe('EnsembleInputError');
    }
  });
});

describe('validateMembers', () => {
  it('returns the row count and names the member at fault', () => {
    expect(validateMembers([matrix([1, 0], [0, 1]), matrix([0.5, 0.5], [0.5, 0.5])], 2)).toBe(2);
    expect(() => validateMembers([matrix([1, 0]), matrix([0.5, 0.5], [0.5, 0.5])], 2, 'test')).toThrow(
      /member 1 \(test\): length 4 does not match 1 rows/,
    );
    expect(() => validateMembers([], 2)).toThrow(/no ensemble members/);
    expect(() => validateMembers([matrix([1, 0, 0])], 2)).toThrow(/not a multiple of numClasses/);
  });
});

describe('validateWeights', () => {
  it('rejects wrong count, negative, non-finite and all-zero weights', () => {
    expect(() => validateWeights([1, 2], 3)).toThrow(/got 2 weights for 3 members/);
    expect(() => validateWeights([1, -1], 2)).toThrow(/weight 1 must be a finite number ≥ 0/);
    expect(() => validateWeights([1, Number.NaN], 2)).toThrow(/weight 1/);
    expect(() => validateWeights([0, 0], 2)).toThrow(/all zero/);
    expect(Array.from(validateWeights([0, 2], 2))).toEqual([0, 2]);
  });
});
