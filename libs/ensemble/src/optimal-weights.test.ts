import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matrix, ensembleCase } from './arbitraries.test-util';
import { applyCombiner, fitCombiner } from './combiners';
import { projectToSimplex } from './optimal-weights';
import { scoreProbabilities } from './scoring';

/** Validation NLL of Σ_m w_m p_m in float64, written from the definition. */
function mixtureNll(
  members: Float32Array[],
  weights: readonly number[],
  truth: Int32Array,
  numClasses: number,
) {
  let total = 0;
  truth.forEach((y, n) => {
    const p = members.reduce(
      (s, probs, m) => s + (weights[m] as number) * (probs[n * numClasses + y] as number),
      0,
    );
    total -= Math.log(Math.max(p, 1e-12));
  });
  return total / truth.length;
}

describe('optimal-weights', () => {
  it('finds the interior optimum computed by hand', () => {
    // True-class probabilities: A (0.9, 0.3), B (0.3, 0.6). With w on A, the NLL's derivative is zero where
    // 0.6 / (0.3 + 0.6w) = 0.3 / (0.6 − 0.3w), i.e. w = 0.75; then the rows get 0.75 and 0.375.
    const truth = Int32Array.from([0, 0]);
    const A = matrix([0.9, 0.1], [0.3, 0.7]);
    const B = matrix([0.3, 0.7], [0.6, 0.4]);
    const params = fitCombiner('optimal-weights', [A, B], truth, 2, { seed: 0 });
    expect(params.weights[0]).toBeCloseTo(0.75, 6);
    expect(params.weights[1]).toBeCloseTo(0.25, 6);
    expect(mixtureNll([A, B], params.weights, truth, 2)).toBeCloseTo(
      -(Math.log(0.75) + Math.log(0.375)) / 2,
      6,
    );
  });

  it('puts all the weight on a member that is better on every row', () => {
    const truth = Int32Array.from([0, 1]);
    const good = matrix([0.8, 0.2], [0.3, 0.7]);
    const poor = matrix([0.6, 0.4], [0.5, 0.5]);
    expect(fitCombiner('optimal-weights', [poor, good], truth, 2, { seed: 0 }).weights).toEqual([0, 1]);
  });

  it('projects onto the simplex', () => {
    // (0.5, 0.5, 2) − τ with τ = 1 on the one positive coordinate: (0, 0, 1).
    expect(Array.from(projectToSimplex(Float64Array.from([0.5, 0.5, 2])))).toEqual([0, 0, 1]);
    // (0.6, 0.2, 0.6) − τ with τ = 0.4/3 on all three: (0.4667, 0.0667, 0.4667).
    const [a, b, c] = projectToSimplex(Float64Array.from([0.6, 0.2, 0.6]));
    expect(a).toBeCloseTo(0.6 - 0.4 / 3, 12);
    expect(b).toBeCloseTo(0.2 - 0.4 / 3, 12);
    expect(c).toBeCloseTo(0.6 - 0.4 / 3, 12);
  });

  it('is never worse than the best single member nor the soft vote on the split it was fitted on (property)', () => {
    fc.assert(
      fc.property(ensembleCase({ minMembers: 1 }), (e) => {
        const params = fitCombiner('optimal-weights', e.members, e.truth, e.numClasses, { seed: 0 });
        expect(params.weights.every((w) => w >= 0)).toBe(true);
        expect(params.weights.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
        const M = e.members.length;
        const fitted = mixtureNll(e.members, params.weights, e.truth, e.numClasses);
        const uniform = mixtureNll(e.members, new Array<number>(M).fill(1 / M), e.truth, e.numClasses);
        const bestSingle = Math.min(
          ...e.members.map((_, m) =>
            mixtureNll(
              e.members,
              e.members.map((__, k) => (k === m ? 1 : 0)),
              e.truth,
              e.numClasses,
            ),
          ),
        );
        expect(fitted).toBeLessThanOrEqual(uniform + 1e-12);
        expect(fitted).toBeLessThanOrEqual(bestSingle + 1e-12);
        // And as scored (float32 probabilities): within float32 rounding.
        const scored = scoreProbabilities(applyCombiner(params, e.members), e.truth, e.numClasses).nll;
        expect(scored).toBeLessThanOrEqual(uniform + 1e-6);
      }),
      { numRuns: 200 },
    );
  });
});
