import { evaluateEnsemble, splitDiversity, type EnsembleEvaluation } from '@chorus/ensemble';
import type { DiversityEvalInput, EnsembleEvalInput } from '@chorus/db';
import { evaluationRows } from './evaluation-rows';

/** One evaluation of a run's members (the live view, a complete round, the final table). */
export interface EvaluationJob {
  runId: string;
  numClasses: number;
  seed: number;
  validationTruth: Int32Array;
  testTruth: Int32Array;
  /** The rounds its rows are stored under (LIVE_ROUND and/or a round). */
  rounds: number[];
  /** The evaluated members' indices, in the order of `validation` and `test`. */
  memberIndices: number[];
  /** Each member's softmax probabilities, rows × classes. */
  validation: Float32Array[];
  test: Float32Array[];
}

export interface EvaluationOutcome {
  evaluation: EnsembleEvaluation;
  rows: { ensemble: EnsembleEvalInput[]; diversity: DiversityEvalInput[] };
}

/**
 * evaluateEnsemble on a job, and the rows it becomes under each of its rounds (evaluation-rows.ts).
 * Runs in the evaluation thread (evaluation-thread.ts); a pure function of the job, so it gives
 * the same numbers wherever it runs.
 */
export function runEvaluationJob(job: EvaluationJob): EvaluationOutcome {
  const evaluation = evaluateEnsemble({
    numClasses: job.numClasses,
    validation: { members: job.validation, truth: job.validationTruth },
    test: { members: job.test, truth: job.testTruth },
    seed: job.seed,
  });
  const validationDiversity = splitDiversity(job.validation, job.validationTruth, job.numClasses);
  const rows = job.rounds.map((round) =>
    evaluationRows({
      runId: job.runId,
      round,
      memberCount: job.memberIndices.length,
      memberIndices: job.memberIndices,
      evaluation,
      validationDiversity,
    }),
  );
  return {
    evaluation,
    rows: { ensemble: rows.flatMap((r) => r.ensemble), diversity: rows.flatMap((r) => r.diversity) },
  };
}
