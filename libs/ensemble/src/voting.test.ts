import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ensembleCase, matrix } from './arbitraries.test-util';
import { EnsembleInputError } from './errors';
import { argmaxLabels } from './labels';
import { accuracyWeights, combine, VOTING_STRATEGIES, type VotingStrategy } from './voting';

function expectRowsClose(actual: Float32Array, expected: number[][], digits = 6): void {
  expect(actual.length).toBe(expected.flat().length);
  expected.flat().forEach((v, i) => expect(actual[i]).toBeCloseTo(v, digits));
}

// Three members, two rows, three classes, used by most hand computations below.
//            row 0            row 1
// A: [0.6, 0.3, 0.1]  [0.2, 0.5, 0.3]   argmax 0, 1
// B: [0.5, 0.4, 0.1]  [0.1, 0.3, 0.6]   argmax 0, 2
// C: [0.2, 0.7, 0.1]  [0.4, 0.4, 0.2]   argmax 1, 0 (0.4 = 0.4: lowest index)
const A = matrix([0.6, 0.3, 0.1], [0.2, 0.5, 0.3]);
const B = matrix([0.5, 0.4, 0.1], [0.1, 0.3, 0.6]);
const C = matrix([0.2, 0.7, 0.1], [0.4, 0.4, 0.2]);
const members = [A, B, C];

describe('combine: hard', () => {
  it('votes the members’ argmax and breaks ties by summed probability', () => {
    // row 0: votes [2, 1, 0] → shares [2/3, 1/3, 0], label 0 (soft would pick 1, see below).
    // row 1: votes [1, 1, 1] → three-way tie; summed probabilities
    //        [0.2+0.1+0.4, 0.5+0.3+0.4, 0.3+0.6+0.2] = [0.7, 1.2, 1.1] → label 1.
    const { scores, labels } = combine('hard', members, 3);
    expectRowsClose(scores, [
      [2 / 3, 1 / 3, 0],
      [1 / 3, 1 / 3, 1 / 3],
    ]);
    expect(Array.from(labels)).toEqual([0, 1]);
  });

  it('falls back to the lower index when the summed probabilities tie too', () => {
    // X votes 0, Y votes 1: votes [1, 1]; sums [0.75+0.25, 0.25+0.75] = [1, 1] → label 0, either order.
    const X = matrix([0.75, 0.25]);
    const Y = matrix([0.25, 0.75]);
    expect(Array.from(combine('hard', [X, Y], 2).labels)).toEqual([0]);
    expect(Array.from(combine('hard', [Y, X], 2).labels)).toEqual([0]);
  });

  it('only classes tied on votes compete on summed probability', () => {
    // Votes: P→0, Q→0, R→2 → [2, 0, 1]: class 0 wins outright although class 1 has the largest
    // summed probability (0.3 + 0.3 + 0.45 = 1.05 > 0.4 + 0.4 + 0 = 0.8).
    const P = matrix([0.4, 0.3, 0.3]);
    const R = matrix([0, 0.45, 0.55]);
    expect(Array.from(combine('hard', [P, P, R], 3).labels)).toEqual([0]);
  });
});

describe('combine: weighted-hard', () => {
  it('counts each vote with its member’s weight', () => {
    // weights [0.5, 0.25, 0.25]
    // row 0: A→0 (0.5), B→0 (0.25), C→1 (0.25) → [0.75, 0.25, 0] → label 0
    // row 1: A→1 (0.5), B→2 (0.25), C→0 (0.25) → [0.25, 0.5, 0.25] → label 1
    const { scores, labels } = combine('weighted-hard', members, 3, [0.5, 0.25, 0.25]);
    expectRowsClose(scores, [
      [0.75, 0.25, 0],
      [0.25, 0.5, 0.25],
    ]);
    expect(Array.from(labels)).toEqual([0, 1]);
  });

  it('lets a heavy member overrule the majority; weights need not sum to 1', () => {
    // weights [1, 1, 3] (Σ 5): row 0: class 0 gets 2/5, class 1 gets 3/5 → label 1
    const { scores, labels } = combine('weighted-hard', members, 3, [1, 1, 3]);
    expectRowsClose(scores.subarray(0, 3), [[0.4, 0.6, 0]]);
    expect(labels[0]).toBe(1);
  });

  it('breaks weighted ties by the weighted summed probability', () => {
    // weights [0.5, 0.5, 0], row 1: A→1 (0.5), B→2 (0.5), C→0 (0) → classes 1 and 2 tie at 0.5.
    // weighted sums: class 1 = 0.5·0.5 + 0.5·0.3 = 0.40; class 2 = 0.5·0.3 + 0.5·0.6 = 0.45 → 2
    expect(combine('weighted-hard', members, 3, [0.5, 0.5, 0]).labels[1]).toBe(2);
  });

  it('treats vote totals equal up to rounding as tied', () => {
    // weights [0.1, 0.2, 0.3]: class 0 gets 0.1 + 0.2 = 0.30000000000000004, class 1 gets 0.3: a tie.
    // weighted sums: class 0 = 0.1·0.5 + 0.2·0.5 + 0.3·0.1 = 0.18; class 1 = 0.04 + 0.08 + 0.27 = 0.39 → 1
    const S = matrix([0.5, 0.4, 0.1]);
    const T = matrix([0.1, 0.9, 0]);
    expect(combine('weighted-hard', [S, S, T], 3, [0.1, 0.2, 0.3]).labels[0]).toBe(1);
  });
});

describe('combine: soft and weighted-soft', () => {
  it('averages the member probabilities', () => {
    // row 0: [0.6+0.5+0.2, 0.3+0.4+0.7, 0.1+0.1+0.1] / 3 = [1.3, 1.4, 0.3] / 3 → label 1
    // row 1: [0.2+0.1+0.4, 0.5+0.3+0.4, 0.3+0.6+0.2] / 3 = [0.7, 1.2, 1.1] / 3 → label 1
    const { scores, labels } = combine('soft', members, 3);
    expectRowsClose(scores, [
      [1.3 / 3, 1.4 / 3, 0.1],
      [0.7 / 3, 0.4, 1.1 / 3],
    ]);
    expect(Array.from(labels)).toEqual([1, 1]);
  });

  it('takes the weighted mean Σ w p / Σ w', () => {
    // weights [2, 1, 1] (= [0.5, 0.25, 0.25] normalised)
    // row 0: 0.5·[0.6,0.3,0.1] + 0.25·[0.5,0.4,0.1] + 0.25·[0.2,0.7,0.1] = [0.475, 0.425, 0.1] → 0
    // row 1: 0.5·[0.2,0.5,0.3] + 0.25·[0.1,0.3,0.6] + 0.25·[0.4,0.4,0.2] = [0.225, 0.425, 0.35] → 1
    const { scores, labels } = combine('weighted-soft', members, 3, [2, 1, 1]);
    expectRowsClose(scores, [
      [0.475, 0.425, 0.1],
      [0.225, 0.425, 0.35],
    ]);
    expect(Array.from(labels)).toEqual([0, 1]);
  });
});

describe('combine: geometric', () => {
  it('renormalises exp(mean log p)', () => {
    // √(0.8·0.5) = √0.4 = 2√0.1 and √(0.2·0.5) = √0.1 → [2/3, 1/3]
    const { scores, labels } = combine('geometric', [matrix([0.8, 0.2]), matrix([0.5, 0.5])], 2);
    expectRowsClose(scores, [[2 / 3, 1 / 3]]);
    expect(labels[0]).toBe(0);
  });

  it('clamps zero probabilities at 1e-12', () => {
    // √(1·0.5) vs √(1e-12·0.5): ratio 1e-6 → p₁ = 1e-6 / (1 + 1e-6)
    const { scores } = combine('geometric', [matrix([1, 0]), matrix([0.5, 0.5])], 2);
    expect(scores[1]).toBeCloseTo(1e-6 / (1 + 1e-6), 12);
    expect(scores[0]).toBeCloseTo(1 / (1 + 1e-6), 7);
  });

  it('matches exp(mean log p) beyond the 20-member product chunk (no underflow)', () => {
    // 45 members with p₀ = 0 (clamped to 1e-12): a product of 45 such values, 1e-540, underflows a double.
    const many = Array.from({ length: 45 }, (_, m) => matrix([0, 0.3 + m / 200, 0.7 - m / 200]));
    const { scores } = combine('geometric', many, 3);
    const logMean = [0, 1, 2].map(
      (c) => many.reduce((s, p) => s + Math.log(Math.max(p[c] as number, 1e-12)), 0) / many.length,
    );
    const g = logMean.map(Math.exp);
    const z = g.reduce((a, b) => a + b, 0);
    expectRowsClose(scores, [g.map((v) => v / z)], 6);
  });
});

describe('accuracyWeights', () => {
  it('is proportional to validation accuracy and sums to 1', () => {
    // [0.8, 0.6, 0.6] / 2.0 = [0.4, 0.3, 0.3]
    const w = accuracyWeights([0.8, 0.6, 0.6]);
    [0.4, 0.3, 0.3].forEach((v, i) => expect(w[i]).toBeCloseTo(v, 12));
  });

  it('gives uniform weights when every accuracy is 0', () => {
    expect(accuracyWeights([0, 0, 0, 0])).toEqual([0.25, 0.25, 0.25, 0.25]);
  });

  it('rejects empty, negative, non-finite and > 1 accuracies', () => {
    expect(() => accuracyWeights([])).toThrow(EnsembleInputError);
    expect(() => accuracyWeights([0.5, -0.1])).toThrow(/accuracy 1 must be a number in \[0, 1\]/);
    expect(() => accuracyWeights([Number.NaN])).toThrow(/accuracy 0/);
    expect(() => accuracyWeights([1.2])).toThrow(/accuracy 0/);
  });
});

describe('combine: bad input', () => {
  it('rejects no members, numClasses < 2, mismatched lengths and non-finite values', () => {
    expect(() => combine('soft', [], 3)).toThrow(/no ensemble members/);
    expect(() => combine('soft', [matrix([1])], 1)).toThrow(/numClasses must be an integer ≥ 2/);
    expect(() => combine('soft', [A, matrix([1, 0, 0])], 3)).toThrow(
      /member 1: length 3 does not match 2 rows/,
    );
    expect(() => combine('hard', [A, matrix([0.5, 0.5, 0], [Number.NaN, 0.5, 0.5])], 3)).toThrow(
      /member 1: row 1, class 0 is NaN/,
    );
  });

  it('rejects weighted strategies without weights, and bad weights', () => {
    expect(() => combine('weighted-soft', members, 3)).toThrow(/needs one weight per member/);
    expect(() => combine('weighted-hard', members, 3)).toThrow(/needs one weight per member/);
    expect(() => combine('weighted-soft', members, 3, [1, 1])).toThrow(/got 2 weights for 3 members/);
    expect(() => combine('weighted-soft', members, 3, [1, -1, 1])).toThrow(/weight 1/);
    expect(() => combine('soft', members, 3, [1, 1])).toThrow(/got 2 weights/);
  });

  it('rejects an unknown strategy', () => {
    expect(() => combine('median' as VotingStrategy, members, 3)).toThrow(/unknown voting strategy 'median'/);
  });
});

describe('combine: properties', () => {
  const runs = { numRuns: 150 };

  it('every strategy returns rows summing to 1 and labels in range', () => {
    fc.assert(
      fc.property(ensembleCase(), fc.constantFrom(...VOTING_STRATEGIES), (e, strategy) => {
        const { scores, labels } = combine(strategy, e.members, e.numClasses, e.weights);
        expect(scores.length).toBe(e.rows * e.numClasses);
        for (let r = 0; r < e.rows; r++) {
          let sum = 0;
          for (let c = 0; c < e.numClasses; c++) sum += scores[r * e.numClasses + c] as number;
          expect(sum).toBeCloseTo(1, 5);
          expect(labels[r]).toBeGreaterThanOrEqual(0);
          expect(labels[r]).toBeLessThan(e.numClasses);
        }
      }),
      runs,
    );
  });

  it('soft and geometric labels are the argmax of their scores', () => {
    fc.assert(
      fc.property(ensembleCase(), fc.constantFrom('soft', 'geometric', 'weighted-soft' as const), (e, s) => {
        const { scores, labels } = combine(s, e.members, e.numClasses, e.weights);
        expect(labels).toEqual(argmaxLabels(scores, e.numClasses));
      }),
      runs,
    );
  });

  it('hard and weighted-hard labels do not depend on the member order', () => {
    fc.assert(
      fc.property(
        ensembleCase({ minMembers: 2 }),
        fc.constantFrom('hard', 'weighted-hard' as const),
        fc.infiniteStream(fc.nat()),
        (e, strategy, rand) => {
          const order = e.members.map((_, i) => i);
          for (let i = order.length - 1; i > 0; i--) {
            const j = (rand.next().value as number) % (i + 1);
            [order[i], order[j]] = [order[j] as number, order[i] as number];
          }
          const before = combine(strategy, e.members, e.numClasses, e.weights);
          const after = combine(
            strategy,
            order.map((i) => e.members[i] as Float32Array),
            e.numClasses,
            order.map((i) => e.weights[i] as number),
          );
          expect(after.labels).toEqual(before.labels);
        },
      ),
      runs,
    );
  });

  it('copies of one member combine to that member (labels; soft and geometric scores too)', () => {
    fc.assert(
      fc.property(ensembleCase({ maxMembers: 1 }), fc.integer({ min: 1, max: 5 }), (e, copies) => {
        const member = e.members[0] as Float32Array;
        const same = Array.from({ length: copies }, () => member);
        const expected = argmaxLabels(member, e.numClasses);
        for (const s of VOTING_STRATEGIES) {
          const w = same.map(() => 1);
          expect(combine(s, same, e.numClasses, w).labels).toEqual(expected);
        }
        const soft = combine('soft', same, e.numClasses).scores;
        member.forEach((p, i) => expect(soft[i]).toBeCloseTo(p, 6));
        // Geometric differs only where the member has zeros (clamped to 1e-12, then renormalised).
        const geometric = combine('geometric', same, e.numClasses).scores;
        member.forEach((p, i) => expect(geometric[i]).toBeCloseTo(p, 6));
      }),
      runs,
    );
  });
});
