import { describe, expect, it } from 'vitest';
import { EnsembleInputError } from './errors';

describe('EnsembleInputError', () => {
  it('is an Error with a name and a stable code the coordinator can map', () => {
    const err = new EnsembleInputError('member 2: row 5 sums to 0.9');
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('EnsembleInputError');
    expect(err.code).toBe('ENSEMBLE_INPUT_INVALID');
    expect(err.message).toBe('member 2: row 5 sums to 0.9');
  });
});
