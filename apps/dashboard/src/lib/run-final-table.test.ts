import { describe, expect, it } from 'vitest';
import { diversity } from '@chorus/ensemble';
import { PairwiseMatricesSchema, parseStored } from '@chorus/protocol';
import { bestValues, finalTableOf, type FinalTableRow } from './run-final-table';

const scores = (accuracy: number, nll: number, brier = 0.3, ece = 0.05) => ({
  accuracy,
  nll,
  brier,
  ece,
  gainOverBest: accuracy - 0.8,
  gainOverMean: accuracy - 0.7,
});
const ensemble = {
  hard: scores(0.82, 0.9),
  soft: scores(0.84, 0.5, 0.25, 0.04),
  'weighted-soft': scores(0.84, 0.52, 0.26, 0.03),
  'weighted-hard': scores(0.81, 0.95),
  geometric: scores(0.83, 0.48, 0.27, 0.06),
};
const result = {
  members: [
    { index: 0, valAccuracy: 0.7, testAccuracy: 0.8, samplesPerSecond: 100 },
    { index: 1, valAccuracy: 0.6, testAccuracy: 0.6, samplesPerSecond: 90 },
  ],
  weights: [0.54, 0.46],
  ensemble,
  diversity: {
    disagreement: 0.2,
    qStatistic: 0.5,
    correlation: 0.3,
    doubleFault: 0.1,
    kappa: 0.6,
    entropy: 0.3,
    kwVariance: 0.05,
    interraterKappa: 0.4,
  },
};

describe('the final table', () => {
  it('uses the stored result first, strategies in the usual order, then the members', () => {
    const table = finalTableOf({ result, latestRound: null, live: null, members: [] })!;
    expect(table.source).toBe('result');
    expect(table.rows.map((r) => r.key)).toEqual([
      'hard',
      'soft',
      'weighted-soft',
      'weighted-hard',
      'geometric',
      '0',
      '1',
    ]);
    // Members: best 0.8, mean 0.7.
    expect(table.rows[6]).toEqual({
      kind: 'member',
      key: '1',
      label: 'Member 1',
      values: { accuracy: 0.6, gainOverBest: 0.6 - 0.8, gainOverMean: 0.6 - 0.7 },
    });
  });

  it('marks the best of each column: highest accuracy and gains, lowest NLL, Brier and ECE, ties included', () => {
    const table = finalTableOf({ result, latestRound: null, live: null, members: [] })!;
    expect(bestValues(table.rows)).toEqual({
      accuracy: 0.84,
      nll: 0.48,
      brier: 0.25,
      ece: 0.03,
      gainOverBest: 0.84 - 0.8,
      gainOverMean: 0.84 - 0.7,
    });
    const rows: FinalTableRow[] = [
      { kind: 'strategy', key: 'a', label: 'a', values: { nll: 2 } },
      { kind: 'strategy', key: 'b', label: 'b', values: {} },
    ];
    expect(bestValues(rows)).toEqual({ nll: 2 });
  });

  it('falls back to the latest complete round (members from its pairwise matrices), then to the live view', () => {
    const truth = Int32Array.from([0, 0, 0, 0]);
    const labels = [
      Int32Array.from([0, 0, 0, 1]),
      Int32Array.from([0, 1, 0, 1]),
      Int32Array.from([1, 0, 0, 0]),
    ];
    const pairwise = parseStored(
      PairwiseMatricesSchema,
      JSON.parse(JSON.stringify(diversity(labels, truth).pairwise)),
      'pairwise',
    );
    const round = {
      round: 2,
      ensemble: { test: { soft: scores(0.75, 0.6) } },
      diversity: { test: { pairwise } },
    };
    const fromRound = finalTableOf({ result: null, latestRound: round, live: null, members: [] })!;
    expect(fromRound).toMatchObject({ source: 'round', round: 2 });
    expect(fromRound.rows.map((r) => [r.key, r.values.accuracy?.toFixed(6)])).toEqual([
      ['soft', '0.750000'],
      ['0', '0.750000'],
      ['1', '0.500000'],
      ['2', '0.750000'],
    ]);

    const live = finalTableOf({
      // A result that does not parse never gets here: libs/db refuses it when it reads the run.
      result: null,
      latestRound: null,
      live: { ensemble: { test: { hard: scores(0.5, 1) } } },
      members: [
        { index: 0, testAccuracy: 0.5 },
        { index: 1, testAccuracy: null },
      ],
    })!;
    expect(live.source).toBe('live');
    expect(live.rows.map((r) => r.key)).toEqual(['hard', '0']);
    expect(finalTableOf({ result: null, latestRound: null, live: null, members: [] })).toBeNull();
  });
});
