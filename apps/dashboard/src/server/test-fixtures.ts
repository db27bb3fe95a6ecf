import type { EnsembleEvalInput } from '@chorus/db/client';

/** A strategy's scores with the given accuracy (and NLL); the other columns fixed. For tests. */
export const scores = (accuracy: number, nll = 0.3) => ({
  accuracy,
  nll,
  brier: 0.1,
  ece: 0.02,
  gainOverBest: 0.01,
  gainOverMean: 0.02,
});

/** One EnsembleEval row of a 2-member run's test split. For tests. */
export const evalRow = (
  runId: string,
  round: number,
  strategy: string,
  accuracy: number,
): EnsembleEvalInput => ({
  runId,
  round,
  split: 'test',
  strategy,
  ...scores(accuracy),
  memberCount: 2,
});
