import type { DiversityEvalInput, EnsembleEvalInput } from '@chorus/db';
import type { EnsembleDiversity, EnsembleEvaluation, StrategyScores } from '@chorus/ensemble';
import type { SplitName } from '@chorus/protocol';

/**
 * The rows one evaluation becomes: an EnsembleEval per strategy and split, a DiversityEval per
 * split (`summary` = the pairwise means plus entropy, kwVariance, interraterKappa and ambiguity, the shape
 * of RunResult's `diversity`, plus `memberIndices` and each one's accuracy on that split in
 * `memberAccuracies`, in the matrices' order; `pairwise` = the M×M matrices).
 */
export function evaluationRows(input: {
  runId: string;
  round: number;
  memberCount: number;
  /** The evaluated members' indices, in the order of the evaluation's members. */
  memberIndices: readonly number[];
  evaluation: EnsembleEvaluation;
  /** Diversity of the members' labels on the validation split (evaluateEnsemble's is on test). */
  validationDiversity: EnsembleDiversity;
}): { ensemble: EnsembleEvalInput[]; diversity: DiversityEvalInput[] } {
  const { runId, round, memberCount, evaluation } = input;
  const scoresOf = (split: SplitName, record: Record<string, StrategyScores>): EnsembleEvalInput[] =>
    Object.entries(record).map(([strategy, s]) => ({
      runId,
      round,
      split,
      strategy,
      accuracy: s.accuracy,
      nll: s.nll,
      brier: s.brier,
      ece: s.ece,
      gainOverBest: s.gainOverBest,
      gainOverMean: s.gainOverMean,
      memberCount,
    }));
  const diversityOf = (split: SplitName, report: EnsembleDiversity): DiversityEvalInput => {
    const { pairwise, mean, ...nonPairwise } = report;
    const memberAccuracies = evaluation.members.map((m) =>
      split === 'test' ? m.testAccuracy : m.valAccuracy,
    );
    return {
      runId,
      round,
      split,
      pairwise,
      summary: { ...mean, ...nonPairwise, memberIndices: [...input.memberIndices], memberAccuracies },
      memberCount,
    };
  };
  return {
    ensemble: [...scoresOf('validation', evaluation.validation), ...scoresOf('test', evaluation.strategies)],
    diversity: [
      diversityOf('validation', input.validationDiversity),
      diversityOf('test', evaluation.diversity),
    ],
  };
}
