import type { Logger } from 'pino';
import { EnsembleInputError } from '@chorus/ensemble';
import type { EvaluationJob, EvaluationOutcome } from './evaluation-job';
import type { EvaluationThreadReply, EvaluationThreadRequest } from './evaluation-thread-messages';
import { createThreadPool, errorOfReply } from './thread-pool';

export interface EvaluationPool {
  /**
   * runEvaluationJob(job) in the evaluation thread (started on the first call): its outcome and
   * the seconds it took there, or what it threw (its class, message and stack), thrown again here.
   */
  evaluate(job: EvaluationJob): Promise<EvaluationOutcome & { seconds: number }>;
  /** Stops the thread; evaluations in flight fail with `unavailable`. */
  close(): Promise<void>;
}

/**
 * The evaluation thread (evaluation-thread.ts) in a pool of one (thread-pool.ts). Its queue is not
 * bounded here: the gather service evaluates one run at a time (task-queue.ts) and queues at most
 * one more evaluation per run and round, so the thread holds at most a few per running run.
 */
export function createEvaluationPool(deps: { logger: Logger }): EvaluationPool {
  const pool = createThreadPool<Omit<EvaluationThreadRequest, 'id'>, EvaluationThreadReply>({
    module: './evaluation-thread.ts',
    name: 'evaluation',
    maxQueue: Number.POSITIVE_INFINITY,
    busy: (held) => `the coordinator is already evaluating ${held} ensembles`,
    onError: (error) => deps.logger.error({ err: error }, 'the evaluation thread failed'),
  });
  return {
    async evaluate(job) {
      const reply = await pool.send({ kind: 'evaluate', job });
      if (reply.kind === 'evaluated') {
        return { evaluation: reply.evaluation, rows: reply.rows, seconds: reply.seconds };
      }
      // The error the evaluation threw there, of the same class where it is one of ours.
      const error =
        reply.code !== undefined
          ? errorOfReply({ code: reply.code, message: reply.message })
          : reply.name === 'EnsembleInputError'
            ? new EnsembleInputError(reply.message)
            : Object.assign(new Error(reply.message), { name: reply.name });
      if (reply.stack !== undefined) error.stack = reply.stack;
      throw error;
    },
    close: () => pool.close(),
  };
}
