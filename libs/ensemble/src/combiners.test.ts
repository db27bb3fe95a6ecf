import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CombinerParamsSchema, LEARNED_COMBINERS, type LearnedCombiner } from '@chorus/protocol';
import { ensembleCase, matrix } from './arbitraries.test-util';
import { applyCombiner, fitCombiner, type FitCombinerOptions } from './combiners';
import { validateProbabilities } from './validate';

const truth = Int32Array.from([0, 1, 1]);
const members = [matrix([0.7, 0.3], [0.4, 0.6], [0.5, 0.5]), matrix([0.6, 0.4], [0.2, 0.8], [0.9, 0.1])];

describe('fitCombiner / applyCombiner', () => {
  it('give plain JSON parameters and probability rows for any ensemble (property)', () => {
    fc.assert(
      fc.property(ensembleCase(), fc.constantFrom(...LEARNED_COMBINERS), (e, name) => {
        const params = fitCombiner(name, e.members, e.truth, e.numClasses, { seed: 1 });
        expect(CombinerParamsSchema.parse(JSON.parse(JSON.stringify(params)))).toEqual(params);
        const combined = applyCombiner(params, e.members);
        expect(() => validateProbabilities(combined, e.rows, e.numClasses)).not.toThrow();
      }),
      { numRuns: 100 },
    );
  });

  it('rejects what it cannot fit or apply, with the reason', () => {
    expect(() => fitCombiner('median' as LearnedCombiner, members, truth, 2, { seed: 0 })).toThrow(
      /unknown learned combiner 'median'/,
    );
    expect(() => fitCombiner('stacking', members, truth, 2, { seed: 0.5 })).toThrow(
      /seed must be an integer/,
    );
    expect(() => fitCombiner('selection', members, Int32Array.from([0, 1]), 2, { seed: 0 })).toThrow(
      /member 0 \(validation\): length 6 does not match 2 rows/,
    );
    const fit = (options: FitCombinerOptions) => () => fitCombiner('stacking', members, truth, 2, options);
    expect(fit({ seed: 0, stacking: { lambdas: [] } })).toThrow(/lambdas must be finite numbers > 0/);
    expect(fit({ seed: 0, stacking: { lambdas: [0.1, -1] } })).toThrow(/lambdas must be finite numbers > 0/);
    expect(fit({ seed: 0, stacking: { lambdas: [0.1, 0.1] } })).toThrow(/must not repeat/);
    expect(fit({ seed: 0, stacking: { folds: 1 } })).toThrow(/folds must be an integer ≥ 2, got 1/);
    expect(fit({ seed: 0, selection: { rounds: 0 } })).toThrow(/rounds must be an integer ≥ 1, got 0/);
    const params = fitCombiner('optimal-weights', members, truth, 2, { seed: 0 });
    expect(() => applyCombiner(params, members.slice(1))).toThrow(/fitted on 2 members, got 1/);
    expect(() => applyCombiner({ ...params, weights: [0.5, 0.6] }, members)).toThrow(/weights sum to 1.1/);
    expect(() => applyCombiner({ ...params, weights: [-1, 2] }, members)).toThrow(/weights\.0/);
  });
});
