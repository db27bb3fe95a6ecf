import type { Logger } from 'pino';
import type { PredictThreadReply, PredictThreadRequest } from './predict-thread-messages';
import { createThreadPool, type ThreadPool } from './thread-pool';

export { errorOfReply } from './thread-pool';

/** Requests the predict thread may hold (running or waiting); one more is refused with 503. */
export const MAX_PREDICT_QUEUE = 8;

type Request = PredictThreadRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;
type Reply = Exclude<PredictThreadReply, { kind: 'ready' }>;

/** Sends a request to the predict thread (started on the first call); close() stops it, failing what it holds. */
export type PredictPool = ThreadPool<Request, Reply>;

/**
 * The predict thread (predict-thread.ts) in a pool of one (thread-pool.ts), with a bounded queue:
 * the coordinator's predict route hands it every model job, so its own event loop stays free.
 */
export function createPredictPool(deps: { logger: Logger; maxQueue?: number }): PredictPool {
  return createThreadPool<Request, Reply>({
    module: './predict-thread.ts',
    name: 'predict',
    maxQueue: deps.maxQueue ?? MAX_PREDICT_QUEUE,
    busy: (held) => `the coordinator is already predicting ${held} requests; try again shortly`,
    onNotice: (message) => {
      const ready = message as Extract<PredictThreadReply, { kind: 'ready' }>;
      deps.logger.info({ backend: ready.backend }, 'predict: TensorFlow.js loaded in the predict thread');
    },
    onError: (error) => deps.logger.error({ err: error }, 'predict: the predict thread failed'),
  });
}
