import type { FastifyInstance } from 'fastify';
import type { Readable } from 'node:stream';
import type { Repositories } from '@chorus/db';
import { checkpointMaxBytes, ChorusError } from '@chorus/protocol';
import type { CheckpointStore, ReceivedCheckpoint } from '../checkpoint-store';
import type { PlanService } from '../services/plan.service';
import type { Scheduler } from '../services/scheduler.service';
import { boundsOf, checkCheckpointNumbers, memberParamsOf } from '../services/worker-numbers';
import { registerRoute, type RouteTokens } from './route';

/**
 * Checkpoint download (every checkpoint) and upload (those beyond CHECKPOINT_SOCKET_MAX_BYTES):
 * the rules are apps/coordinator/README.md's "Checkpoint storage".
 */
export function registerCheckpointRoutes(
  app: FastifyInstance,
  deps: RouteTokens & {
    repos: Repositories;
    checkpoints: CheckpointStore;
    scheduler: Scheduler;
    plans: PlanService;
    /** The bound of a member whose parameter count is unknown (its model does not fit the dataset). */
    maxMemberParams: number;
  },
): void {
  /** A member's latest checkpoint (the bytes the worker sent), with its step and plan offset in headers. */
  registerRoute(app, 'getCheckpoint', deps, async ({ params, reply }) => {
    const { memberId, epoch } = params;
    const latest = await deps.repos.checkpoints.latest(memberId);
    // Only the latest checkpoint is what a resumed member loads (older ones are pruned).
    if (!latest || latest.epoch !== epoch) {
      throw new ChorusError(
        'not-found',
        latest
          ? `member ${memberId} has no checkpoint of epoch ${epoch} (latest: epoch ${latest.epoch})`
          : `member ${memberId} has no checkpoint`,
      );
    }
    reply
      .header('content-type', 'application/octet-stream')
      .header('x-chorus-epoch', latest.epoch)
      .header('x-chorus-step', latest.step)
      .header('x-chorus-plan-offset', latest.planOffset);
    if (latest.file !== null) {
      const { stream, bytes } = await deps.checkpoints.open(latest.file);
      return reply.header('content-length', bytes).send(stream);
    }
    const weights = latest.weights ?? new Uint8Array(0);
    return reply.send(Buffer.from(weights.buffer, weights.byteOffset, weights.byteLength));
  });

  registerRoute(app, 'putCheckpoint', deps, async ({ params, headers, request, reply }) => {
    const { memberId, epoch } = params;
    const lease = { memberId, attempt: headers['x-chorus-attempt'] };
    const workerId = headers['x-chorus-worker-id'];
    const body = request.body as Readable | undefined;
    try {
      if (body === undefined || typeof (body as Partial<Readable>).pipe !== 'function') {
        throw new ChorusError(
          'invalid-input',
          'a checkpoint upload takes its bytes as the body, content-type: application/octet-stream',
        );
      }
      const length = Number(request.headers['content-length']);
      if (!Number.isSafeInteger(length)) {
        throw new ChorusError('invalid-input', 'a checkpoint upload needs a content-length header');
      }
      // Fenced as the socket messages are: only the worker holding this attempt's lease writes.
      const member = await deps.scheduler.requireLease(workerId, lease);
      const data = await deps.plans.forRun(member.runId);
      let received: ReceivedCheckpoint;
      const started = performance.now();
      try {
        checkCheckpointNumbers(boundsOf(data, member.index), {
          epoch,
          step: headers['x-chorus-step'],
          planOffset: headers['x-chorus-plan-offset'],
        });
        const expectedParams = memberParamsOf(data, member.index);
        const maxBytes = checkpointMaxBytes(expectedParams ?? deps.maxMemberParams);
        if (length > maxBytes) {
          throw new ChorusError(
            'too-large',
            `a checkpoint of ${length} bytes is beyond this member's bound of ${maxBytes} (weights and optimizer slots of its ${expectedParams ?? deps.maxMemberParams} parameters, and headers)`,
          );
        }
        received = await deps.checkpoints.receive(memberId, body, {
          maxBytes: Math.min(maxBytes, length),
          ...(expectedParams !== undefined && { expectedParams }),
        });
      } catch (error) {
        // Bad numbers or bytes: the member's failure that follows is the checkpoint's, not its own
        // (README "Attempts").
        if (error instanceof ChorusError && (error.code === 'invalid-input' || error.code === 'too-large'))
          deps.scheduler.checkpointRefused(lease);
        throw error;
      }
      try {
        // The upload took a while: the lease may have moved on meanwhile.
        await deps.scheduler.requireLease(workerId, lease);
        await deps.checkpoints.commitFile(received, {
          memberId,
          epoch,
          step: headers['x-chorus-step'],
          planOffset: headers['x-chorus-plan-offset'],
        });
      } catch (error) {
        await deps.checkpoints.discard(received);
        throw error;
      }
      const seconds = Math.round(performance.now() - started) / 1000;
      request.log.info({ memberId, epoch, bytes: received.size, seconds }, 'checkpoint stored');
      return { epoch, bytes: received.size, sha256: received.sha256 };
    } catch (error) {
      // A refusal before the whole body was read: close the connection rather than read the rest.
      if (body !== undefined && !body.readableEnded) reply.header('connection', 'close');
      throw error;
    }
  });
}
