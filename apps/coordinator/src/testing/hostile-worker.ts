/**
 * The hijack of the issue, as a test helper: a client holding only the shared worker token and a
 * worker id it read from `GET /api/workers` tries to become that worker and complete its member with
 * uniform predictions (a member that would score chance, 1/numClasses).
 */
import { randomBytes } from 'node:crypto';
import type { Assignment, LeaseRef } from '@chorus/protocol';
import { bytesOf, connectWorker, handshake, type WorkerSocket } from './harness';
import type { RunningCoordinator } from '../coordinator';

/** A handshake refusal as the client sees it (`connect_error`). */
export interface Refusal {
  message: string;
  code: unknown;
  reason: unknown;
}

export interface HijackOutcome {
  /** How each connection as the victim's id went: a refusal, or 'connected'. */
  asVictim: Array<Refusal | 'connected'>;
  /** Connected under an id of its own, the answers to its messages about the victim's lease. */
  asItself: { heartbeatRevoked: LeaseRef[]; predictions: string; done: string; failed: string };
}

/** Rows × numClasses probabilities of 1/numClasses: the uniform member of the issue. */
export function uniformRows(rows: number, numClasses: number): Float32Array<ArrayBuffer> {
  return new Float32Array(rows * numClasses).fill(1 / numClasses);
}

/**
 * Tries to take over `victimId` (no secret, a guessed secret) and, failing that, to renew and
 * complete the victim's member from a connection of its own. Closes every socket it opened.
 */
export async function attemptHijack(
  coordinator: RunningCoordinator,
  victimId: string,
  member: { assignment: Assignment; rows: { validation: number; test: number }; numClasses: number },
): Promise<HijackOutcome> {
  const asVictim: HijackOutcome['asVictim'] = [];
  const lease = { memberId: member.assignment.memberId, attempt: member.assignment.attempt };
  for (const secret of [undefined, randomBytes(32).toString('base64url')]) {
    const auth = handshake({
      workerId: victimId,
      activeMembers: [lease.memberId],
      ...(secret !== undefined && { secret }),
    });
    try {
      const socket = await connectWorker(coordinator, auth, { presentSecret: false });
      asVictim.push('connected');
      await complete(socket, lease, member).catch(() => undefined);
      socket.close();
    } catch (error) {
      const data = (error as { data?: { code?: unknown; reason?: unknown } }).data;
      asVictim.push({ message: (error as Error).message, code: data?.code, reason: data?.reason });
    }
  }
  const own = await connectWorker(coordinator, handshake({ name: 'hostile' }));
  try {
    const beat = await own.emitWithAck('heartbeat', { members: [lease] });
    const answers = await complete(own, lease, member);
    const failed = await own.emitWithAck('member:failed', { ...lease, error: 'hostile' });
    return {
      asVictim,
      asItself: {
        heartbeatRevoked: beat.ok ? beat.revoked : [],
        ...answers,
        failed: failed.ok ? 'ok' : failed.code,
      },
    };
  } finally {
    own.close();
  }
}

/** Uniform predictions for the member's first round, then `member:done`: each answer's code. */
async function complete(
  socket: WorkerSocket,
  lease: LeaseRef,
  member: { rows: { validation: number; test: number }; numClasses: number },
): Promise<{ predictions: string; done: string }> {
  let predictions = 'ok';
  for (const split of ['validation', 'test'] as const) {
    const rows = member.rows[split];
    const answer = await socket.emitWithAck('predictions', {
      ...lease,
      round: 0,
      split,
      rows,
      numClasses: member.numClasses,
      probabilities: bytesOf(uniformRows(rows, member.numClasses)),
    });
    if (!answer.ok) predictions = answer.code;
  }
  const done = await socket.emitWithAck('member:done', { ...lease, samples: 1, seconds: 1 });
  return { predictions, done: done.ok ? 'ok' : done.code };
}
