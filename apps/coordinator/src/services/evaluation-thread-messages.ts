import type { EvaluationJob, EvaluationOutcome } from './evaluation-job';

/**
 * The messages between the coordinator and its evaluation thread (evaluation-thread.ts). Both ends
 * are this app, started from the same source, so these are TypeScript types, not a wire contract.
 */
export type EvaluationThreadRequest = { id: number; kind: 'evaluate'; job: EvaluationJob };

export type EvaluationThreadReply =
  /** `seconds`: the evaluation's own time in the thread (chorus_evaluation_seconds). */
  | ({ id: number; kind: 'evaluated'; seconds: number } & EvaluationOutcome)
  /** What the evaluation threw: a ChorusError's `code`, or any other error's `name`. */
  | { id: number; kind: 'failed'; code?: string; name: string; message: string; stack?: string };
