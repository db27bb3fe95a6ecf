import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { ChorusError, ERROR_CODES, type ErrorCode } from '@chorus/protocol';
import type { PredictThreadReply, PredictThreadRequest } from './predict-thread-messages';

/** Requests the predict thread may hold (running or waiting); one more is refused with 503. */
export const MAX_PREDICT_QUEUE = 8;

type Request = PredictThreadRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;
type Reply = Exclude<PredictThreadReply, { kind: 'ready' }>;

export interface PredictPool {
  /** Sends a request to the thread (started on the first call) and resolves with its reply. */
  send(request: Request): Promise<Reply>;
  /** Stops the thread; requests in flight fail. */
  close(): Promise<void>;
}

/**
 * A pool of one worker thread running predict-thread.ts, with a bounded queue: the coordinator's
 * predict route hands it every model job, so its own event loop stays free. A thread that dies
 * fails the requests it held; the next request starts a new one.
 */
export function createPredictPool(deps: { logger: Logger; maxQueue?: number }): PredictPool {
  const maxQueue = deps.maxQueue ?? MAX_PREDICT_QUEUE;
  const pending = new Map<number, { resolve: (reply: Reply) => void; reject: (error: Error) => void }>();
  let worker: Worker | undefined;
  let nextId = 1;

  const failAll = (error: Error) => {
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
  };

  const start = (): Worker => {
    const thread = new Worker(new URL('./predict-thread.mjs', import.meta.url));
    thread.on('message', (message: PredictThreadReply) => {
      if (message.kind === 'ready') {
        deps.logger.info({ backend: message.backend }, 'predict: TensorFlow.js loaded in the predict thread');
        return;
      }
      const waiting = pending.get(message.id);
      pending.delete(message.id);
      waiting?.resolve(message);
    });
    const lost = (reason: string) => {
      if (worker === thread) worker = undefined;
      failAll(new ChorusError('internal', `the predict thread stopped: ${reason}`));
    };
    thread.on('error', (error) => {
      deps.logger.error({ err: error }, 'predict: the predict thread failed');
      lost(error.message);
    });
    thread.on('exit', (code) => lost(`it exited with code ${code}`));
    return thread;
  };

  return {
    send(request) {
      if (pending.size >= maxQueue) {
        return Promise.reject(
          new ChorusError(
            'unavailable',
            `the coordinator is already predicting ${pending.size} requests; try again shortly`,
          ),
        );
      }
      worker ??= start();
      const id = nextId++;
      const thread = worker;
      return new Promise<Reply>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        thread.postMessage({ ...request, id } as PredictThreadRequest);
      });
    },
    async close() {
      const thread = worker;
      worker = undefined;
      failAll(new ChorusError('unavailable', 'the coordinator is shutting down'));
      await thread?.terminate();
    },
  };
}

/** A thread's failure as the ChorusError it was there. */
export function errorOfReply(reply: { code: string; message: string }): ChorusError {
  const code = (ERROR_CODES as readonly string[]).includes(reply.code) ? (reply.code as ErrorCode) : 'internal';
  return new ChorusError(code, reply.message);
}
