import { VOTING_STRATEGIES } from '@chorus/ensemble';
import {
  FINAL_METRICS,
  type FinalMetric,
  type FinalTable,
  type FinalTableRow,
  type FinalTableSource,
  type RunResult,
} from '@chorus/protocol';
import { memberAccuraciesFromPairwise, type PairwiseMatrices } from './run-diversity';

/**
 * The final comparison table of a run (test split): one row per voting strategy and one per
 * member, from the run's stored result once it completed, else its latest complete round, else
 * the live view (each member's latest round). Pure, so the Compare page can build the same table.
 * Its shape is libs/protocol's FinalTableSchema (the run page's answers carry it).
 */
export { FINAL_METRICS };
export type { FinalMetric, FinalTable, FinalTableRow, FinalTableSource };

/** NLL, Brier and ECE are losses; accuracy and the gains are better when higher. */
export const LOWER_IS_BETTER: Readonly<Record<FinalMetric, boolean>> = {
  accuracy: false,
  nll: true,
  brier: true,
  ece: true,
  gainOverBest: false,
  gainOverMean: false,
};

export const FINAL_METRIC_LABELS: Readonly<Record<FinalMetric, string>> = {
  accuracy: 'Accuracy',
  nll: 'NLL',
  brier: 'Brier',
  ece: 'ECE',
  gainOverBest: 'Gain over best member',
  gainOverMean: 'Gain over mean member',
};

/** Scores of one strategy, as stored (EnsembleEval columns, RunResult's `ensemble`). */
export type StrategyScoresLike = Partial<Record<FinalMetric, number>>;

/** The parts of a run's detail view (libs/db `loadRunDetail`) the table is made from. */
export interface FinalTableInput {
  result: RunResult | null;
  latestRound: {
    round: number;
    ensemble: { test: Record<string, StrategyScoresLike> };
    diversity: { test: { pairwise: PairwiseMatrices } | null };
  } | null;
  live: { ensemble: { test: Record<string, StrategyScoresLike> } } | null;
  members: ReadonlyArray<{ index: number; testAccuracy: number | null }>;
}

export function finalTableOf(input: FinalTableInput): FinalTable | null {
  const result = input.result;
  if (result) {
    return {
      source: 'result',
      round: null,
      rows: [
        ...strategyRows(result.ensemble),
        ...memberRows(result.members.map((m) => [m.index, m.testAccuracy])),
      ],
    };
  }
  const round = input.latestRound;
  if (round && Object.keys(round.ensemble.test).length > 0) {
    const pairwise = round.diversity.test?.pairwise;
    const accuracies = pairwise ? memberAccuraciesFromPairwise(pairwise) : null;
    return {
      source: 'round',
      round: round.round,
      rows: [...strategyRows(round.ensemble.test), ...memberRows(accuracies?.map((a, i) => [i, a]) ?? [])],
    };
  }
  if (input.live && Object.keys(input.live.ensemble.test).length > 0) {
    const known = input.members.flatMap((m) =>
      m.testAccuracy === null ? [] : [[m.index, m.testAccuracy] as const],
    );
    return {
      source: 'live',
      round: null,
      rows: [...strategyRows(input.live.ensemble.test), ...memberRows(known)],
    };
  }
  return null;
}

function strategyRows(ensemble: Record<string, StrategyScoresLike>): FinalTableRow[] {
  const known = VOTING_STRATEGIES.filter((s) => ensemble[s]);
  const others = Object.keys(ensemble).filter((s) => !(VOTING_STRATEGIES as readonly string[]).includes(s));
  return [...known, ...others].map((strategy) => {
    const scores = ensemble[strategy] ?? {};
    const values: Partial<Record<FinalMetric, number>> = {};
    for (const metric of FINAL_METRICS) {
      const v = scores[metric];
      if (typeof v === 'number' && Number.isFinite(v)) values[metric] = v;
    }
    return { kind: 'strategy', key: strategy, label: strategy, values };
  });
}

/** Members' rows: test accuracy and its gain over the best and the mean member (they have no stored NLL etc.). */
function memberRows(accuracies: ReadonlyArray<readonly [number, number]>): FinalTableRow[] {
  if (accuracies.length === 0) return [];
  const values = accuracies.map(([, a]) => a);
  const best = Math.max(...values);
  const mean = values.reduce((s, a) => s + a, 0) / values.length;
  return accuracies.map(([index, accuracy]) => ({
    kind: 'member',
    key: String(index),
    label: `Member ${index}`,
    values: { accuracy, gainOverBest: accuracy - best, gainOverMean: accuracy - mean },
  }));
}

/** The best value of each metric over the rows (lower for losses); ties all count as best. */
export function bestValues(
  rows: readonly FinalTableRow[],
  metrics: readonly FinalMetric[] = FINAL_METRICS,
): Partial<Record<FinalMetric, number>> {
  const best: Partial<Record<FinalMetric, number>> = {};
  for (const metric of metrics) {
    for (const row of rows) {
      const v = row.values[metric];
      if (v === undefined) continue;
      const current = best[metric];
      if (current === undefined || (LOWER_IS_BETTER[metric] ? v < current : v > current)) best[metric] = v;
    }
  }
  return best;
}

export const FINAL_SOURCE_LABELS: Readonly<Record<FinalTableSource, string>> = {
  result: 'final result (each member’s last epoch)',
  round: 'latest epoch every member finished',
  live: 'live: each member’s latest epoch',
};
