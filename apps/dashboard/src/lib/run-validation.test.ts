import { describe, expect, it } from 'vitest';
import type { DiversityRow, EnsembleRow } from './run-rounds';
import { validationCurves } from './run-validation';

const summary = (memberIndices: number[] | undefined, memberAccuracies: number[] | undefined) =>
  ({
    disagreement: 0.1,
    qStatistic: 0.5,
    correlation: 0.4,
    doubleFault: 0.05,
    entropy: 0.1,
    kwVariance: 0.02,
    interraterKappa: 0.6,
    ambiguity: 0.01,
    ...(memberIndices && { memberIndices }),
    ...(memberAccuracies && { memberAccuracies }),
  }) as unknown as DiversityRow['summary'];
const diversityRow = (round: number, split: string, s: DiversityRow['summary']): DiversityRow => ({
  round,
  split,
  summary: s,
  pairwise: {
    disagreement: [],
    qStatistic: [],
    correlation: [],
    doubleFault: [],
  } as unknown as DiversityRow['pairwise'],
});
const ensembleRow = (round: number, split: string, strategy: string, accuracy: number): EnsembleRow => ({
  round,
  split,
  strategy,
  accuracy,
  gainOverBest: 0,
  gainOverMean: 0,
});

describe('validation curves', () => {
  it('reads each member’s validation accuracy per complete round, at the 1-based epoch', () => {
    const curves = validationCurves(
      [
        ensembleRow(1, 'validation', 'soft', 0.9),
        ensembleRow(0, 'validation', 'soft', 0.8),
        ensembleRow(0, 'validation', 'hard', 0.7), // another strategy
        ensembleRow(0, 'test', 'soft', 0.5), // another split
        ensembleRow(-1, 'validation', 'soft', 0.95), // the live view
      ],
      [
        // Matrix order ≠ member order: position 0 is member 2.
        diversityRow(1, 'validation', summary([2, 0], [0.85, 0.75])),
        diversityRow(0, 'validation', summary([2, 0], [0.7, 0.6])),
        diversityRow(0, 'test', summary([2, 0], [0.1, 0.1])),
        diversityRow(-1, 'validation', summary([2, 0], [0.99, 0.99])),
        // Stored before memberAccuracies existed: nothing to read.
        diversityRow(2, 'validation', summary(undefined, undefined)),
      ],
    );
    expect(curves).toEqual({
      members: [
        {
          index: 0,
          points: [
            [1, 0.6],
            [2, 0.75],
          ],
        },
        {
          index: 2,
          points: [
            [1, 0.7],
            [2, 0.85],
          ],
        },
      ],
      ensemble: [
        [1, 0.8],
        [2, 0.9],
      ],
    });
  });

  it('is empty before the first complete round', () => {
    expect(validationCurves([], [])).toEqual({ members: [], ensemble: [] });
  });
});
