import { z } from 'zod';
import { LeaseRefSchema, WorkerRegisteredSchema } from './sockets';
import { NO_PAYLOAD, type SocketCatalog, type SocketEvents } from './typed-socket';

export const LeaseNoticeSchema = LeaseRefSchema.extend({ reason: z.string().max(4000) });
export type LeaseNotice = z.infer<typeof LeaseNoticeSchema>;

/** Coordinator → worker, on the `/workers` namespace: notifications, not answered. */
export const CoordinatorToWorkerCatalog = {
  /** Work is queued: ask with `member:request` if a slot is free. */
  'work:available': { message: NO_PAYLOAD },
  /** This connection registered a new worker id: keep `secret` beside it and present it on every reconnect. */
  'worker:registered': { message: WorkerRegisteredSchema },
  /** Stop training this member (run cancelled, or the lease moved elsewhere). */
  'member:revoke': { message: LeaseNoticeSchema },
  /**
   * A faster worker sits idle while this one trains the member: stop after the current step, send
   * a `checkpoint` at the plan offset reached, then `member:release`. A worker that ignores it
   * (an older one) simply keeps training the member; one that finishes the member first sends
   * `member:done` as usual.
   */
  'member:handover': { message: LeaseNoticeSchema },
  /**
   * An operator drains this worker (`POST /api/workers/:id/drain`): it stops asking for work,
   * checkpoints and releases every member at its next step (`member:release` with reason `drain`),
   * then exits. The coordinator leases it nothing more.
   */
  'worker:drain': { message: z.object({ reason: z.string().max(4000) }) },
} satisfies SocketCatalog;

export type CoordinatorToWorkerEvents = SocketEvents<typeof CoordinatorToWorkerCatalog>;
