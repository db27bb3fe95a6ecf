import type { Logger } from 'pino';
import type { HandleOptions } from '@chorus/protocol';
import { toAckError } from '../errors';
import type { TaskQueue } from '../services/task-queue';

/**
 * How the coordinator handles every socket message (protocol's `handleEvent`): a failure is
 * answered through errors.ts (internal ones logged in full, answered without details), a refusal
 * is logged with its reason, and the work is tracked so a shutdown waits for it.
 */
export function coordinatorHandling(
  logger: Logger,
  queue: TaskQueue,
  admit?: HandleOptions['admit'],
): HandleOptions {
  return {
    ...(admit !== undefined && { admit }),
    toAckError: (error, event) => toAckError(error, logger, event),
    onRefused: (event, refusal) => {
      // A flood would write a line per refused message; its budget's refusals are not logged.
      if (refusal.code !== 'internal' && refusal.code !== 'rate-limited')
        logger.warn({ event, code: refusal.code, reason: refusal.message }, 'message refused');
    },
    track: (work) => void queue.track(work),
  };
}
