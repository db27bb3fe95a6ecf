import {
  memberAccuraciesFromPairwise,
  memberMeans,
  type DiversitySummary,
  type PairwiseMatrices,
} from './run-diversity';
import type { RoundSummary } from '@chorus/protocol';

/**
 * One complete evaluation round on the test split, condensed for the charts: each strategy's
 * accuracy, the best and mean member (accuracy − the stored gains), the diversity summary, and
 * per member its accuracy and mean pairwise disagreement (for the accuracy–diversity scatter).
 * Its shape is libs/protocol's RoundSummarySchema (the run page's answers carry it).
 */
export type { RoundSummary };

export interface EnsembleRow {
  round: number;
  split: string;
  strategy: string;
  accuracy: number;
  gainOverBest: number;
  gainOverMean: number;
}
export interface DiversityRow {
  round: number;
  split: string;
  summary: DiversitySummary;
  pairwise: PairwiseMatrices;
}

/** Complete rounds (≥ 0) of the test split, in round order; the live view (−1) is left out. */
export function roundSummaries(
  ensemble: readonly EnsembleRow[],
  diversity: readonly DiversityRow[],
): RoundSummary[] {
  const rounds = new Map<number, RoundSummary>();
  for (const row of ensemble) {
    if (row.split !== 'test' || row.round < 0) continue;
    let summary = rounds.get(row.round);
    if (!summary) {
      summary = {
        round: row.round,
        strategies: {},
        bestMember: null,
        meanMember: null,
        diversity: null,
        memberAccuracy: [],
        memberDisagreement: [],
      };
      rounds.set(row.round, summary);
    }
    summary.strategies[row.strategy] = row.accuracy;
    // Every strategy row of a round carries the same members: accuracy − gain = that member figure.
    summary.bestMember ??= row.accuracy - row.gainOverBest;
    summary.meanMember ??= row.accuracy - row.gainOverMean;
  }
  for (const row of diversity) {
    const summary = rounds.get(row.round);
    if (!summary || row.split !== 'test') continue;
    summary.diversity = row.summary;
    const pairwise = row.pairwise;
    summary.memberDisagreement = memberMeans(pairwise.disagreement);
    // Stored by the coordinator; rows written before it did: recovered from the matrices (M ≥ 3).
    const stored = row.summary.memberAccuracies;
    summary.memberAccuracy =
      stored && stored.length === pairwise.disagreement.length
        ? [...stored]
        : (memberAccuraciesFromPairwise(pairwise) ?? pairwise.disagreement.map(() => null));
  }
  return [...rounds.values()].sort((a, b) => a.round - b.round);
}

export interface ScatterPoint {
  round: number;
  /** Null for the ensemble. */
  member: number | null;
  /** Mean pairwise disagreement (the member's with the others; the ensemble's over all pairs). */
  disagreement: number;
  accuracy: number;
}

/** Member points (where their accuracy is known) and the ensemble's (one strategy) per round. */
export function accuracyDiversityPoints(
  rounds: readonly RoundSummary[],
  strategy: string,
): { members: ScatterPoint[]; ensemble: ScatterPoint[] } {
  const members: ScatterPoint[] = [];
  const ensemble: ScatterPoint[] = [];
  for (const r of rounds) {
    r.memberAccuracy.forEach((accuracy, position) => {
      const disagreement = r.memberDisagreement[position];
      // Matrix order is the evaluated members' order: their indices when stored (a live view may lack some).
      const member = r.diversity?.memberIndices?.[position] ?? position;
      if (
        accuracy !== null &&
        accuracy !== undefined &&
        disagreement !== null &&
        disagreement !== undefined
      ) {
        members.push({ round: r.round, member, disagreement, accuracy });
      }
    });
    const accuracy = r.strategies[strategy];
    if (accuracy !== undefined && r.diversity) {
      ensemble.push({ round: r.round, member: null, disagreement: r.diversity.disagreement, accuracy });
    }
  }
  return { members, ensemble };
}

/**
 * The live view (each member after its latest epoch) as a point after the complete rounds, while
 * it says something they do not: before every member has finished an epoch (no round yet, e.g. 4
 * members on 2 slots for the first half of the run), or while some members are epochs ahead. Null
 * when there is no live view or it matches the latest complete round.
 */
export interface LivePoint {
  /** 0-based like `round`: the round the live view runs ahead into. */
  round: number;
  strategies: Record<string, number>;
  memberCount: number;
}

export function livePoint(
  rounds: readonly RoundSummary[],
  live: { memberCount: number; ensemble: { test: Record<string, { accuracy: number }> } } | null,
): LivePoint | null {
  if (!live) return null;
  const strategies = Object.fromEntries(
    Object.entries(live.ensemble.test).map(([strategy, scores]) => [strategy, scores.accuracy]),
  );
  if (Object.keys(strategies).length === 0) return null;
  const last = rounds.at(-1);
  if (last && Object.entries(strategies).every(([s, accuracy]) => last.strategies[s] === accuracy))
    return null;
  return { round: last ? last.round + 1 : 0, strategies, memberCount: live.memberCount };
}
