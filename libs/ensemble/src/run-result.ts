import type { PairwiseMeasures } from './diversity';
import { EnsembleInputError } from './errors';
import type { EnsembleEvaluation, StrategyScores } from './evaluate';
import type { VotingStrategy } from './voting';

/**
 * The final table of a run, shaped like @chorus/protocol's RunResult (this lib may not import
 * protocol; the type is structurally the same, and the protocol's zod schema checks it).
 */
export interface RunResultSummary {
  members: { index: number; valAccuracy: number; testAccuracy: number; samplesPerSecond: number }[];
  weights: number[];
  ensemble: Record<VotingStrategy, StrategyScores>;
  diversity: PairwiseMeasures<number> & {
    entropy: number;
    kwVariance: number;
    interraterKappa: number;
    ambiguity: number;
  };
}

/** Condenses an evaluation (all strategies) plus each member's training throughput into a RunResult. */
export function runResultOf(
  evaluation: EnsembleEvaluation,
  samplesPerSecond: readonly number[],
): RunResultSummary {
  if (samplesPerSecond.length !== evaluation.members.length) {
    throw new EnsembleInputError(
      `got ${samplesPerSecond.length} throughput figures for ${evaluation.members.length} members`,
    );
  }
  const { pairwise: _pairwise, mean, ...nonPairwise } = evaluation.diversity;
  return {
    members: evaluation.members.map((m, i) => {
      const rate = samplesPerSecond[i] as number;
      if (!Number.isFinite(rate) || rate < 0) {
        throw new EnsembleInputError(`member ${i}: samples per second must be finite and ≥ 0, got ${rate}`);
      }
      return {
        index: m.index,
        valAccuracy: m.valAccuracy,
        testAccuracy: m.testAccuracy,
        samplesPerSecond: rate,
      };
    }),
    weights: [...evaluation.weights],
    ensemble: { ...evaluation.strategies },
    diversity: { ...mean, ...nonPairwise },
  };
}
