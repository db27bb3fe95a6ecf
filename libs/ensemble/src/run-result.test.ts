import { describe, expect, it } from 'vitest';
import { matrix } from './arbitraries.test-util';
import { evaluateEnsemble } from './evaluate';
import { runResultOf } from './run-result';

// Two members, two classes: A is right on every sample, B on the first only.
const split = {
  members: [matrix([0.9, 0.1], [0.2, 0.8]), matrix([0.6, 0.4], [0.7, 0.3])],
  truth: Int32Array.from([0, 1]),
};

describe('runResultOf', () => {
  const e = evaluateEnsemble({ numClasses: 2, validation: split, test: split, seed: 0 });

  it('condenses an evaluation into the run result table', () => {
    const r = runResultOf(e, [100, 0]);
    expect(r.members).toEqual([
      { index: 0, valAccuracy: 1, testAccuracy: 1, samplesPerSecond: 100 },
      { index: 1, valAccuracy: 0.5, testAccuracy: 0.5, samplesPerSecond: 0 },
    ]);
    expect(r.weights).toEqual(e.weights);
    expect(r.ensemble).toEqual(e.strategies);
    expect(r.diversity).toEqual({
      ...e.diversity.mean,
      entropy: e.diversity.entropy,
      kwVariance: e.diversity.kwVariance,
      interraterKappa: e.diversity.interraterKappa,
      ambiguity: e.diversity.ambiguity,
    });
  });

  it('needs one finite, non-negative throughput per member', () => {
    expect(() => runResultOf(e, [1])).toThrow(/1 throughput figures for 2 members/);
    expect(() => runResultOf(e, [1, Number.NaN])).toThrow(/member 1/);
  });
});
