import { describe, expect, it } from 'vitest';
import type { EnsembleEvalView } from '@chorus/protocol';
import { roundLine } from './logs';

const row = (round: number, strategy: string, accuracy: number, memberCount: number): EnsembleEvalView => ({
  runId: 'r',
  round,
  split: 'test',
  strategy,
  memberCount,
  accuracy,
  nll: 0.5,
  brier: 0.2,
  ece: 0.1,
  gainOverBest: 0,
  gainOverMean: 0,
  createdAt: new Date('2026-12-03T10:00:00.000Z'),
  updatedAt: new Date('2026-12-03T10:00:00.000Z'),
});

describe('roundLine (chorus logs)', () => {
  it('names the 1-based epoch and each strategy in STRATEGY_NAMES order, test split only', () => {
    const rows = [
      row(1, 'soft', 0.8123, 3),
      row(1, 'hard', 0.8, 3),
      { ...row(1, 'hard', 0.5, 3), split: 'validation' as const },
      row(0, 'hard', 0.1, 3),
    ];
    expect(roundLine(1, rows)).toBe('evaluation after epoch 2 (3 members) test: hard 80.0% soft 81.2%');
  });

  it('says "1 member" for a live view of one member', () => {
    expect(roundLine(-1, [row(-1, 'soft', 0.5, 1)])).toBe('live view (1 member) test: soft 50.0%');
  });
});
