import { z } from 'zod';
import {
  AssignmentSchema,
  CheckpointMessageSchema,
  HeartbeatSchema,
  LeaseRefSchema,
  MemberDoneSchema,
  MemberFailedSchema,
  MemberReleaseSchema,
  MetricsMessageSchema,
  PlanChunkSchema,
  PlanRequestSchema,
  PredictionsMessageSchema,
} from './sockets';
import { EMPTY_ACK, type SocketCatalog, type SocketEvents } from './typed-socket';

/**
 * Worker → coordinator, on the `/workers` namespace. Every event is answered: `ack` is the
 * `{ ok: true, … }` half of the answer; a refused message gets `{ ok: false, code, message }`.
 * Every message is idempotent on the coordinator's keys, so a worker re-sends until answered.
 */
export const WorkerToCoordinatorCatalog = {
  /** A free slot asks for work: an assignment, or null when none is queued. */
  'member:request': {
    message: z.object({}),
    ack: z.object({ assignment: AssignmentSchema.nullable() }),
  },
  /** The next mini-batches of the member's shard plan. */
  'plan:next': { message: PlanRequestSchema, ack: z.object({ chunk: PlanChunkSchema }) },
  metrics: { message: MetricsMessageSchema, ack: EMPTY_ACK },
  predictions: { message: PredictionsMessageSchema, ack: EMPTY_ACK },
  checkpoint: { message: CheckpointMessageSchema, ack: EMPTY_ACK },
  'member:done': { message: MemberDoneSchema, ack: EMPTY_ACK },
  /** `requeued`: the member goes back to the queue (it has attempts left), else the run fails. */
  'member:failed': { message: MemberFailedSchema, ack: z.object({ requeued: z.boolean() }) },
  /** Hands a member back after `member:handover`: it goes to the faster worker that is waiting for it. */
  'member:release': { message: MemberReleaseSchema, ack: EMPTY_ACK },
  /** The leases the worker holds; `revoked` are those it must stop (the coordinator no longer honours them). */
  heartbeat: { message: HeartbeatSchema, ack: z.object({ revoked: z.array(LeaseRefSchema) }) },
} satisfies SocketCatalog;

export type WorkerToCoordinatorEvents = SocketEvents<typeof WorkerToCoordinatorCatalog>;
