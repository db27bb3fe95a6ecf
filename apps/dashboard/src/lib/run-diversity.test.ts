import { describe, expect, it } from 'vitest';
import { diversity } from '@chorus/ensemble';
import { PairwiseMatricesSchema, parseStored, StoredDiversitySummarySchema } from '@chorus/protocol';
import { memberAccuraciesFromPairwise, memberMeans } from './run-diversity';

describe('diversity helpers', () => {
  // Truth 0,0,0,0; member labels → correctness: m0 1110 (0.75), m1 1010 (0.5), m2 0111 (0.75).
  const truth = Int32Array.from([0, 0, 0, 0]);
  const labels = [
    Int32Array.from([0, 0, 0, 1]),
    Int32Array.from([0, 1, 0, 1]),
    Int32Array.from([1, 0, 0, 0]),
  ];
  const report = diversity(labels, truth);

  it('recovers each member accuracy from disagreement and double fault', () => {
    // Pair (0,1): d = 1/4 (sample 1), f = 1/4 (sample 3) → s = 2 − 0.25 − 0.5 = 1.25 = 0.75 + 0.5.
    expect(report.pairwise.disagreement[0]?.[1]).toBe(0.25);
    expect(report.pairwise.doubleFault[0]?.[1]).toBe(0.25);
    const accuracies = memberAccuraciesFromPairwise(report.pairwise);
    expect(accuracies).not.toBeNull();
    expect(accuracies![0]).toBeCloseTo(0.75, 12);
    expect(accuracies![1]).toBeCloseTo(0.5, 12);
    expect(accuracies![2]).toBeCloseTo(0.75, 12);
    // Two members: symmetric measures cannot say which one is better.
    expect(memberAccuraciesFromPairwise(diversity(labels.slice(0, 2), truth).pairwise)).toBeNull();
  });

  it("averages a member's pairwise values over the others", () => {
    // Disagreements: (0,1) 1/4, (0,2) 2/4 (samples 0 and 3), (1,2) 3/4 (samples 0, 1, 3).
    expect(report.pairwise.disagreement).toEqual([
      [0, 0.25, 0.5],
      [0.25, 0, 0.75],
      [0.5, 0.75, 0],
    ]);
    expect(memberMeans(report.pairwise.disagreement)).toEqual([0.375, 0.5, 0.625]);
    expect(memberMeans([[0]])).toEqual([null]);
  });

  it('parses the stored JSON and refuses other shapes, naming the field', () => {
    const stored = JSON.parse(JSON.stringify(report)) as typeof report;
    expect(parseStored(PairwiseMatricesSchema, stored.pairwise, 'pairwise').qStatistic).toEqual(
      report.pairwise.qStatistic,
    );
    expect(
      parseStored(
        StoredDiversitySummarySchema,
        { ...stored.mean, entropy: 0.5, kwVariance: 0.1, interraterKappa: 0.2 },
        'summary',
      ),
    ).toMatchObject({ entropy: 0.5 });
    expect(() =>
      parseStored(PairwiseMatricesSchema, { disagreement: 'x' }, 'DiversityEval.pairwise'),
    ).toThrow(/stored DiversityEval.pairwise does not match its shape: disagreement: /);
    expect(() => parseStored(StoredDiversitySummarySchema, null, 'DiversityEval.summary')).toThrow(
      /DiversityEval.summary/,
    );
  });
});
