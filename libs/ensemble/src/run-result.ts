import type { RunResult } from '@chorus/protocol';
import { EnsembleInputError } from './errors';
import type { EnsembleEvaluation } from './evaluate';

/** Condenses an evaluation (all strategies) plus each member's training throughput into a RunResult. */
export function runResultOf(evaluation: EnsembleEvaluation, samplesPerSecond: readonly number[]): RunResult {
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
