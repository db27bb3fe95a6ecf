import type { Logger } from 'pino';
import type { HandleOptions } from '@chorus/protocol';
import { toAckError } from '../errors';
import type { TaskQueue } from '../services/task-queue';
import { payloadBytes, type CoordinatorTelemetry } from '../telemetry';

/**
 * How the coordinator handles every socket message (protocol's `handleEvent`): a failure is
 * answered through errors.ts (internal ones logged in full, answered without details), a refusal
 * is logged with its reason, the work is tracked so a shutdown waits for it, and every message is
 * counted (telemetry: messages, bytes, refusals, time to its answer).
 */
export function coordinatorHandling(
  logger: Logger,
  queue: TaskQueue,
  options: { admit?: HandleOptions['admit']; telemetry?: CoordinatorTelemetry } = {},
): HandleOptions {
  const { admit, telemetry } = options;
  return {
    ...(admit !== undefined && { admit }),
    toAckError: (error, event) => toAckError(error, logger, event),
    onRefused: (event, refusal) => {
      // A flood would write a line per refused message; its budget's refusals are not logged.
      if (refusal.code !== 'internal' && refusal.code !== 'rate-limited')
        logger.warn({ event, code: refusal.code, reason: refusal.message }, 'message refused');
    },
    track: (work) => void queue.track(work),
    ...(telemetry && {
      onAnswered: (event, payload, refusal, seconds) => {
        telemetry.messagesReceived.inc({ event });
        telemetry.bytesReceived.inc({ event }, payloadBytes(payload));
        telemetry.ackSeconds.observe({ event }, seconds);
        if (refusal) telemetry.refusals.inc({ event, code: refusal.code });
      },
    }),
  };
}
