import { describe, expect, it } from 'vitest';
import { STRATEGY_NAMES, type RunResult, type StrategyResult } from '@chorus/protocol';
import { formatRunReport } from './report';

const scores: StrategyResult = {
  accuracy: 0.9,
  nll: 0.3,
  brier: 0.15,
  ece: 0.02,
  gainOverBest: 0.01,
  gainOverMean: 0.03,
};
const result: RunResult = {
  members: [{ index: 0, valAccuracy: 0.88, testAccuracy: 0.89, samplesPerSecond: 1000 }],
  weights: [1],
  ensemble: Object.fromEntries(STRATEGY_NAMES.map((s) => [s, scores])) as RunResult['ensemble'],
  diversity: {
    disagreement: 0,
    qStatistic: 1,
    correlation: 1,
    doubleFault: 0,
    kappa: 1,
    entropy: 0,
    kwVariance: 0,
    interraterKappa: 1,
  },
};

describe('formatRunReport', () => {
  it('has a row for every strategy, the learned combiners included', () => {
    const rows = formatRunReport(result).split('\n');
    for (const name of STRATEGY_NAMES) {
      expect(rows.some((row) => row.includes(` ${name} `) && row.includes('0.9000'))).toBe(true);
    }
  });

  it('leaves out a learned combiner that a result stored before them lacks', () => {
    const { stacking: _s, 'optimal-weights': _o, selection: _l, ...fixed } = result.ensemble;
    const text = formatRunReport({ ...result, ensemble: fixed });
    expect(text).not.toMatch(/stacking|optimal-weights|selection/);
    expect(text).toMatch(/ geometric /);
  });
});
