import { describe, expect, it } from 'vitest';
import type { RunResult } from '@chorus/protocol';
import { classViewsOf, rowShare } from './run-classes';

const scores = (accuracy: number) => ({
  accuracy,
  nll: 1,
  brier: 0.5,
  ece: 0.1,
  gainOverBest: 0,
  gainOverMean: 0,
});
const member = (index: number) => ({ index, valAccuracy: 0.5, testAccuracy: 0.5, samplesPerSecond: 1 });

function result(classes: RunResult['classes']): RunResult {
  return {
    members: [member(0), member(1)],
    weights: [0.5, 0.5],
    ensemble: {
      hard: scores(0.6),
      soft: scores(0.7),
      'weighted-soft': scores(0.7),
      'weighted-hard': scores(0.6),
      geometric: scores(0.65),
      stacking: scores(0.75),
    },
    diversity: {
      disagreement: 0,
      qStatistic: 0,
      correlation: 0,
      doubleFault: 0,
      kappa: 0,
      entropy: 0,
      kwVariance: 0,
      interraterKappa: 0,
    },
    ...(classes && { classes }),
  };
}

const detailed = {
  names: ['cat', 'dog'],
  testCount: [2, 2],
  softVoteAccuracy: [1, 0.5],
  strategyAccuracy: { stacking: [1, 1], soft: [1, 0.5], hard: [0.5, 0.5] },
  memberAccuracy: [
    [0.5, 0.5],
    [1, 0],
  ],
  confusion: {
    hard: [
      [1, 1],
      [1, 1],
    ],
    soft: [
      [2, 0],
      [1, 1],
    ],
    stacking: [
      [2, 0],
      [0, 2],
    ],
  },
};

describe('classViewsOf', () => {
  it('gives a column per stored strategy (display order), then per member, and picks the best strategy', () => {
    const views = classViewsOf(result(detailed))!;
    expect(views.columns.map((c) => `${c.kind}:${c.key}`)).toEqual([
      'strategy:hard',
      'strategy:soft',
      'strategy:stacking',
      'member:0',
      'member:1',
    ]);
    expect(views.columns[4]).toEqual({ kind: 'member', key: '1', label: 'Member 1', values: [1, 0] });
    expect(views.detailed).toBe(true);
    expect(views.confusionStrategies).toEqual(['hard', 'soft', 'stacking']);
    expect(views.best).toBe('stacking'); // 0.75, the highest test accuracy among the stored matrices
  });

  it('takes the first in display order on a tie, and skips a best strategy without a matrix', () => {
    const tie = classViewsOf(
      result({
        ...detailed,
        confusion: { soft: detailed.confusion.soft, 'weighted-soft': detailed.confusion.soft },
      }),
    )!;
    expect(tie.best).toBe('soft'); // soft and weighted-soft both 0.7
    const noStacking = classViewsOf(result({ ...detailed, confusion: { hard: detailed.confusion.hard } }))!;
    expect(noStacking.best).toBe('hard');
  });

  it("shows an older result's soft vote alone, and nothing without classes", () => {
    const older = classViewsOf(result({ names: ['a', 'b'], testCount: [1, 1], softVoteAccuracy: [1, 0] }))!;
    expect(older.detailed).toBe(false);
    expect(older.columns).toEqual([{ kind: 'strategy', key: 'soft', label: 'soft', values: [1, 0] }]);
    expect(older.confusionStrategies).toEqual([]);
    expect(older.best).toBeNull();
    expect(classViewsOf(result(undefined))).toBeNull();
    expect(classViewsOf(null)).toBeNull();
  });
});

describe('rowShare', () => {
  it("is a cell's share of its row, 0 for an empty row", () => {
    expect(rowShare([[1, 3]], 0, 1)).toBe(0.75);
    expect(rowShare([[0, 0]], 0, 0)).toBe(0);
  });
});
