import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LEARNED_COMBINERS, STRATEGY_NAMES } from '@chorus/protocol';
import { ensembleCase, matrix } from './arbitraries.test-util';
import { ambiguity } from './ambiguity';
import { applyCombiner, fitCombiner } from './combiners';
import { diversity } from './diversity';
import { evaluateEnsemble } from './evaluate';
import { scoreProbabilities } from './scoring';
import { combine, VOTING_STRATEGIES, type VotingStrategy } from './voting';

// Three members, two classes.
// Validation, truth [0, 1, 0, 1]:
//   A [.8,.2] [.3,.7] [.6,.4] [.1,.9]   → 0 1 0 1  correct 4/4 = 1
//   B [.7,.3] [.6,.4] [.4,.6] [.2,.8]   → 0 0 1 1  correct 2/4 = 0.5
//   C [.4,.6] [.55,.45] [.9,.1] [.7,.3] → 1 0 0 0  correct 1/4 = 0.25
//   weights = [1, 0.5, 0.25] / 1.75 = [4/7, 2/7, 1/7]
// Test, truth [0, 1, 1]:
//   A [.9,.1] [.6,.4] [.2,.8]           → 0 0 1    correct 2/3
//   B [.4,.6] [.3,.7] [.3,.7]           → 1 1 1    correct 2/3
//   C [.3,.7] [.45,.55] [.6,.4]         → 1 1 0    correct 1/3
//   best member 2/3, mean member 5/9
const validation = {
  members: [
    matrix([0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.1, 0.9]),
    matrix([0.7, 0.3], [0.6, 0.4], [0.4, 0.6], [0.2, 0.8]),
    matrix([0.4, 0.6], [0.55, 0.45], [0.9, 0.1], [0.7, 0.3]),
  ],
  truth: Int32Array.from([0, 1, 0, 1]),
};
const test = {
  members: [
    matrix([0.9, 0.1], [0.6, 0.4], [0.2, 0.8]),
    matrix([0.4, 0.6], [0.3, 0.7], [0.3, 0.7]),
    matrix([0.3, 0.7], [0.45, 0.55], [0.6, 0.4]),
  ],
  truth: Int32Array.from([0, 1, 1]),
};

describe('evaluateEnsemble', () => {
  const e = evaluateEnsemble({ numClasses: 2, validation, test, seed: 0 });

  it('scores each member on both splits', () => {
    expect(e.members.map((m) => m.index)).toEqual([0, 1, 2]);
    expect(e.members.map((m) => m.valAccuracy)).toEqual([1, 0.5, 0.25]);
    expect(e.members.map((m) => m.testAccuracy)).toEqual([2 / 3, 2 / 3, 1 / 3]);
    // member A on test: NLL = −(ln 0.9 + ln 0.4 + ln 0.8)/3 = (0.105361 + 0.916291 + 0.223144)/3
    expect(e.members[0]?.test.nll).toBeCloseTo(1.244795 / 3, 5);
    expect(e.members[0]?.test).toEqual(scoreProbabilities(test.members[0] as Float32Array, test.truth, 2));
  });

  it('takes the weights from validation accuracies, not test ones', () => {
    // from test accuracies they would be [0.4, 0.4, 0.2]
    [4 / 7, 2 / 7, 1 / 7].forEach((w, i) => expect(e.weights[i]).toBeCloseTo(w, 12));
  });

  it('reports each strategy’s test accuracy and gains by hand', () => {
    // hard:     votes (0,1,1) (0,1,1) (1,1,0) → 1 1 1 → 2/3
    // soft:     p₀ = 1.6/3, 1.35/3, 1.1/3 → 0 1 1 → 1
    // w-soft:   p₀ = 4.7/7, 3.45/7, 2/7 → 0 1 1 → 1
    // w-hard:   class-0 weight 4/7, 4/7, 1/7 → 0 0 1 → 2/3
    // geometric: ∏p₀ vs ∏p₁ = .108 vs .042, .081 vs .154, .036 vs .224 → 0 1 1 → 1
    const expected: Record<VotingStrategy, number> = {
      hard: 2 / 3,
      soft: 1,
      'weighted-soft': 1,
      'weighted-hard': 2 / 3,
      geometric: 1,
    };
    for (const s of VOTING_STRATEGIES) {
      expect(e.strategies[s].accuracy).toBeCloseTo(expected[s], 12);
      expect(e.strategies[s].gainOverBest).toBeCloseTo(expected[s] - 2 / 3, 12);
      expect(e.strategies[s].gainOverMean).toBeCloseTo(expected[s] - 5 / 9, 12);
    }
    // geometric row 0: p₀ = (.108/.042)^(1/3) / (1 + (.108/.042)^(1/3))
    const ratio = Math.cbrt(0.108 / 0.042);
    const geometric = combine('geometric', test.members, 2);
    expect(geometric.scores[0]).toBeCloseTo(ratio / (1 + ratio), 6);
  });

  it('scores strategies with the combined labels and the fitted weights', () => {
    const ws = combine('weighted-soft', test.members, 2, e.weights);
    expect(e.strategies['weighted-soft']).toMatchObject(scoreProbabilities(ws.scores, test.truth, 2));
    const hard = combine('hard', test.members, 2);
    expect(e.strategies.hard).toMatchObject(scoreProbabilities(hard.scores, test.truth, 2, 15, hard.labels));
  });

  it('reports the validation split with gains against validation members', () => {
    // hard on validation: votes (0,0,1) (1,0,0) (0,1,0) (1,1,0) → 0 0 0 1 → 3/4
    // best member 1, mean member 1.75/3 = 7/12
    expect(e.validation.hard.accuracy).toBe(0.75);
    expect(e.validation.hard.gainOverBest).toBeCloseTo(-0.25, 12);
    expect(e.validation.hard.gainOverMean).toBeCloseTo(0.75 - 7 / 12, 12);
  });

  it('measures diversity on the test split’s argmax labels', () => {
    const labels = [Int32Array.from([0, 0, 1]), Int32Array.from([1, 1, 1]), Int32Array.from([1, 1, 0])];
    // Plus the ambiguity of the probabilities themselves.
    expect(e.diversity).toEqual({
      ...diversity(labels, test.truth),
      ambiguity: ambiguity(test.members, test.truth.length, 2),
    });
    // A correct 1 0 1, B correct 0 1 1: N11 = 1, N10 = 1, N01 = 1 → disagreement 2/3
    expect(e.diversity.pairwise.disagreement[0]?.[1]).toBeCloseTo(2 / 3, 12);
  });

  it('computes only the strategies asked for, once each', () => {
    const only = evaluateEnsemble({ numClasses: 2, validation, test, seed: 0, strategies: ['soft', 'hard', 'soft'] });
    expect(Object.keys(only.strategies).sort()).toEqual(['hard', 'soft']);
    expect(Object.keys(only.validation).sort()).toEqual(['hard', 'soft']);
    expect(only.strategies.soft).toEqual(e.strategies.soft);
  });

  it('reports every strategy, the learned combiners fitted on the validation split', () => {
    expect(Object.keys(e.strategies)).toEqual([...STRATEGY_NAMES]);
    expect(Object.keys(e.validation)).toEqual([...STRATEGY_NAMES]);
    expect(Object.keys(e.combiners)).toEqual([...LEARNED_COMBINERS]);
    for (const name of LEARNED_COMBINERS) {
      const params = fitCombiner(name, validation.members, validation.truth, 2, { seed: 0 });
      expect(e.combiners[name]).toEqual(params);
      const scores = applyCombiner(params, test.members);
      expect(e.strategies[name]).toMatchObject(scoreProbabilities(scores, test.truth, 2));
    }
  });

  it('fits no parameter on the test labels: shuffling them changes none', () => {
    const shuffled = { ...test, truth: Int32Array.from([1, 0, 1]) };
    const other = evaluateEnsemble({ numClasses: 2, validation, test: shuffled, seed: 0 });
    expect(other.combiners).toEqual(e.combiners);
    expect(other.weights).toEqual(e.weights);
    expect(other.validation).toEqual(e.validation);
  });

  it('fits no parameter on the test labels (property)', () => {
    fc.assert(
      fc.property(ensembleCase(), fc.integer(), (c, seed) => {
        const split = { members: c.members, truth: c.truth };
        const reversed = { members: c.members, truth: c.truth.slice().reverse() };
        const a = evaluateEnsemble({ numClasses: c.numClasses, validation: split, test: split, seed });
        const b = evaluateEnsemble({ numClasses: c.numClasses, validation: split, test: reversed, seed });
        expect(b.combiners).toEqual(a.combiners);
        expect(b.weights).toEqual(a.weights);
      }),
      { numRuns: 50 },
    );
  });

  it('rejects bad input with a reason', () => {
    const base = { numClasses: 2, validation, test, seed: 0 };
    expect(() => evaluateEnsemble({ ...base, numClasses: 1 })).toThrow(/numClasses/);
    expect(() => evaluateEnsemble({ ...base, test: { ...test, members: test.members.slice(1) } })).toThrow(
      /validation has 3 members but test has 2/,
    );
    expect(() => evaluateEnsemble({ ...base, test: { ...test, truth: Int32Array.from([0, 1]) } })).toThrow(
      /member 0 \(test\): length 6 does not match 2 rows/,
    );
    expect(() => evaluateEnsemble({ ...base, validation: { ...validation, members: [] } })).toThrow(
      /no ensemble members \(validation\)/,
    );
    expect(() => evaluateEnsemble({ ...base, strategies: [] })).toThrow(/at least one voting strategy/);
    expect(() => evaluateEnsemble({ ...base, strategies: ['mode' as VotingStrategy] })).toThrow(/unknown/);
    expect(() => evaluateEnsemble({ ...base, test: { ...test, truth: Int32Array.from([0, 1, 2]) } })).toThrow(
      /test truth: sample 2 has label 2/,
    );
    expect(() => evaluateEnsemble({ ...base, bins: 0 })).toThrow(/bins/);
  });

  it('never lets a NaN out (property)', () => {
    fc.assert(
      fc.property(ensembleCase(), (c) => {
        const split = { members: c.members, truth: c.truth };
        const out = evaluateEnsemble({ numClasses: c.numClasses, validation: split, test: split, seed: 0 });
        expect(JSON.stringify(out)).not.toMatch(/null|NaN|Infinity/);
      }),
      { numRuns: 100 },
    );
  });
});
