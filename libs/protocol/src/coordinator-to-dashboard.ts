import { z } from 'zod';
import { MEMBER_STATUSES, RUN_STATUSES } from './statuses';
import { NO_PAYLOAD, type SocketCatalog, type SocketEvents } from './typed-socket';

/**
 * Coordinator → dashboards, on the read-only `/dashboard` namespace: notifications only. The
 * database stays the source of truth: `data` is small inline data for live views, and a client
 * that reconnects (or misses one) refetches over HTTP.
 */

const runId = z.string().min(1).max(64);
const count = z.number().int().min(0);

/** `status`: the run moved to `status`. */
export const StatusNotificationSchema = z.object({
  runId,
  kind: z.literal('status'),
  data: z.object({ status: z.enum(RUN_STATUSES) }),
});

/** One member changed: leased to `workerId`, re-queued (after a failure, `error`; after a handover, `handedOverAt` = its plan offset), or completed. */
export const MemberChangeSchema = z.object({
  index: count,
  status: z.enum(MEMBER_STATUSES),
  workerId: z.string().optional(),
  handedOverAt: count.optional(),
  error: z.string().optional(),
});
/** Members whose leases expired, back in the queue. */
export const MembersRequeuedSchema = z.object({ requeued: z.array(count).min(1) });
export const MemberNotificationSchema = z.object({
  runId,
  kind: z.literal('member'),
  data: z.union([MemberChangeSchema, MembersRequeuedSchema]),
});

/** The latest point of one member in a metrics flush, with the flush's points as `curve` = [step, loss, accuracy][]. */
export const MemberMetricsSchema = z.object({
  index: count,
  step: count,
  epoch: count,
  loss: z.number(),
  accuracy: z.number(),
  samplesPerSecond: z.number(),
  curve: z.array(z.tuple([z.number(), z.number(), z.number()])).optional(),
});
/** `metrics`: the members with new points since the last notification (apps/coordinator metrics-buffer.ts). */
export const MetricsNotificationSchema = z.object({
  runId,
  kind: z.literal('metrics'),
  data: z.object({ members: z.array(MemberMetricsSchema) }),
});

/** `evaluation`: round `round` was evaluated on the members in so far; `complete` once all `liveMembers` were. */
export const EvaluationNotificationSchema = z.object({
  runId,
  kind: z.literal('evaluation'),
  data: z.object({ round: count, complete: z.boolean(), liveMembers: count }),
});

/** Sent to the room `run:<id>` (runRoom) as `run:changed`. */
export const RunNotificationSchema = z.discriminatedUnion('kind', [
  StatusNotificationSchema,
  MemberNotificationSchema,
  MetricsNotificationSchema,
  EvaluationNotificationSchema,
]);

export type RunNotification = z.infer<typeof RunNotificationSchema>;
export type MemberMetrics = z.infer<typeof MemberMetricsSchema>;
export type MemberChange = z.infer<typeof MemberChangeSchema>;

export const CoordinatorToDashboardCatalog = {
  'run:changed': { message: RunNotificationSchema },
  /** A run was created or changed status: lists refetch. */
  'runs:changed': { message: NO_PAYLOAD },
  /** A worker connected or disconnected. */
  'workers:changed': { message: NO_PAYLOAD },
} satisfies SocketCatalog;

export type CoordinatorToDashboardEvents = SocketEvents<typeof CoordinatorToDashboardCatalog>;
