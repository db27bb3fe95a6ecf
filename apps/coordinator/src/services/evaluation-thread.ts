import { performance } from 'node:perf_hooks';
import { parentPort } from 'node:worker_threads';
import { ChorusError } from '@chorus/protocol';
import { runEvaluationJob } from './evaluation-job';
import type { EvaluationThreadReply, EvaluationThreadRequest } from './evaluation-thread-messages';

/**
 * The coordinator's evaluation thread (started by evaluation-pool.ts through thread-entry.mjs):
 * every ensemble evaluation of the gather service (the live view, complete rounds, the final table)
 * runs here, one at a time, so the coordinator's event loop (heartbeats, acks) never waits on one.
 */
const port = parentPort;
if (port === null) throw new Error('evaluation-thread.ts runs in a worker thread (evaluation-pool.ts)');

port.on('message', (request: EvaluationThreadRequest) => {
  let reply: EvaluationThreadReply;
  try {
    const started = performance.now();
    const outcome = runEvaluationJob(request.job);
    reply = { id: request.id, kind: 'evaluated', seconds: (performance.now() - started) / 1000, ...outcome };
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    reply = {
      id: request.id,
      kind: 'failed',
      ...(e instanceof ChorusError && { code: e.code }),
      name: e.name,
      message: e.message,
      ...(e.stack !== undefined && { stack: e.stack }),
    };
  }
  port.postMessage(reply);
});
