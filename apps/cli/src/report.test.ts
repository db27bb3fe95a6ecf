import { describe, expect, it } from 'vitest';
import { STRATEGY_NAMES, type RunResult, type StrategyResult } from '@chorus/protocol';
import { formatGain, formatRunReport } from './report';

const strategy = (accuracy: number): StrategyResult => ({
  accuracy,
  nll: 0.21,
  brier: 0.03,
  ece: 0.01,
  gainOverBest: accuracy - 0.97,
  gainOverMean: accuracy - 0.96,
});
const result: RunResult = {
  members: [0, 1, 2, 3, 4].map((index) => ({
    index,
    valAccuracy: 0.96,
    testAccuracy: 0.965,
    samplesPerSecond: 12_345.6,
  })),
  weights: [0.2, 0.2, 0.2, 0.2, 0.2],
  ensemble: {
    hard: strategy(0.975),
    soft: strategy(0.9761),
    'weighted-soft': strategy(0.9761),
    'weighted-hard': strategy(0.975),
    geometric: strategy(0.9697),
  },
  diversity: {
    disagreement: 0.04,
    qStatistic: 0.9,
    correlation: 0.5,
    doubleFault: 0.02,
    kappa: 0.7,
    entropy: 0.03,
    kwVariance: 0.01,
    interraterKappa: 0.7,
    ambiguity: 0.004,
  },
};

describe('formatRunReport', () => {
  const text = formatRunReport(result, { color: false });
  const lines = text.split('\n');

  it('is compact: a rule under the header, none between rows', () => {
    // 3 tables × (top, header, rule, bottom) + 5 members + 5 strategies + 9 diversity measures.
    expect(lines).toHaveLength(3 * 4 + 5 + 5 + 9);
  });

  it('fits 100 columns and has no escape codes without colours', () => {
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(100);
    expect(text).not.toContain('\u001b[');
  });

  it('colours the headers when asked', () => {
    expect(formatRunReport(result, { color: true })).toContain(' \u001b[36mstrategy (test)\u001b[39m ');
  });

  it('writes gains in percentage points, as the dashboard does', () => {
    expect(lines.find((l) => l.includes(' soft '))).toContain('+0.61 pp');
    expect(formatGain(0.0125)).toBe('+1.25 pp');
    expect(formatGain(-0.003)).toBe('−0.30 pp');
  });
});

describe('formatRunReport with the learned combiners', () => {
  const scores = strategy(0.9);
  const full: RunResult = {
    ...result,
    ensemble: Object.fromEntries(STRATEGY_NAMES.map((s) => [s, scores])) as RunResult['ensemble'],
  };

  it('has a row for every strategy, the learned combiners included', () => {
    const rows = formatRunReport(full, { color: false }).split('\n');
    for (const name of STRATEGY_NAMES) {
      expect(rows.some((row) => row.includes(` ${name} `) && row.includes('0.9000'))).toBe(true);
    }
  });

  it('leaves out a learned combiner that a result stored before them lacks', () => {
    const text = formatRunReport(result, { color: false });
    expect(text).not.toMatch(/stacking|optimal-weights|selection/);
    expect(text).toMatch(/ geometric /);
  });
});
