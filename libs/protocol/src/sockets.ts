import { z } from 'zod';
import { ChorusError, ERROR_CODES, type ErrorCode } from './errors';
import { MemberModelSpecSchema } from './member-model';
import { RunConfigSchema } from './run-config';

/**
 * The payloads of the `/workers` namespace: the handshake, the assignment and the worker's
 * messages. The catalogs that name the events (worker-to-coordinator.ts, coordinator-to-worker.ts,
 * and the dashboard's two) derive the socket.io event maps; typed-socket.ts checks every message
 * against them on both ends.
 *
 * Binary payloads (probabilities, index plans, weights) travel as socket.io binary attachments:
 * send a Uint8Array view of the typed array; Node receives a Buffer (a Uint8Array).
 */

export const WORKERS_NAMESPACE = '/workers';
export const DASHBOARD_NAMESPACE = '/dashboard';
/**
 * The largest socket.io message the coordinator takes (its `maxHttpBufferSize`); a larger one
 * closes the connection. Workers check a message against it before sending.
 */
export const MAX_SOCKET_MESSAGE_BYTES = 64 * 1024 * 1024;
export const BACKENDS = ['tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
export const SPLITS = ['validation', 'test'] as const;
export type SplitName = (typeof SPLITS)[number];

const bytes = z.instanceof(Uint8Array, { message: 'expected binary data' });
const id = z.string().min(1).max(64);
/** The largest value of a Postgres `integer` (int4), the column type of every count we store. */
export const INT4_MAX = 2_147_483_647;
/** The largest finite float32: tfjs computes losses in float32, so a larger one cannot be real. */
export const FLOAT32_MAX = 3.4028234663852886e38;
/**
 * Bounds that hold whatever the run (a worker's numbers that depend on the run, such as a step
 * within the member's plan, are checked by the coordinator against the run).
 */
const count = z.number().int().min(0).max(INT4_MAX);
const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const fraction = z.number().min(0).max(1);

/** `io(url + '/workers', { auth })`: checked before the connection is accepted. */
/** A worker's session secret: 32 random bytes as base64url (43 characters), issued by the coordinator. */
export const WorkerSecretSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{43}$/, 'a worker secret is 43 base64url characters (32 bytes)');

/**
 * `data.reason` of a handshake refused because the worker id is registered with another secret (or
 * the secret is missing): the worker cannot be that worker, so it registers anew under a new id.
 */
export const WORKER_IDENTITY_REFUSED = 'worker-identity';

/**
 * The `data` of a socket connection the coordinator refuses (both namespaces' middleware): the
 * client's `connect_error` carries the message and this. socket.io's own failures (a transport
 * error, an unknown namespace) carry none.
 */
export const ConnectRefusalSchema = z.object({
  code: z.enum(ERROR_CODES),
  reason: z.literal(WORKER_IDENTITY_REFUSED).optional(),
});
export type ConnectRefusal = z.infer<typeof ConnectRefusalSchema>;

/** A refused connection as a socket.io middleware passes it to `next`. */
export function connectRefusal(
  code: ErrorCode,
  message: string,
  reason?: ConnectRefusal['reason'],
): Error & { data: ConnectRefusal } {
  const data: ConnectRefusal = { code, ...(reason !== undefined && { reason }) };
  return Object.assign(new Error(message), { data });
}

/**
 * A `connect_error`'s `data` read back: null when there is none (socket.io's own failure), else
 * the refusal, or a ChorusError('invalid-input') naming the fields when it does not match the schema
 * (a coordinator of another Chorus version).
 */
export function readConnectRefusal(data: unknown): ConnectRefusal | null {
  if (data === undefined || data === null) return null;
  const parsed = ConnectRefusalSchema.safeParse(data);
  if (parsed.success) return parsed.data;
  const fields = parsed.error.issues
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(data)'}: ${i.message}`)
    .join('; ');
  throw new ChorusError(
    'invalid-input',
    `the connection refusal's data does not match its schema: ${fields}`,
  );
}

/**
 * The session secret issued at a worker id's first registration, sent once right after that
 * connection: the worker keeps it beside its id and presents it as `secret` on every reconnect.
 */
export const WorkerRegisteredSchema = z.object({ workerId: z.string().uuid(), secret: WorkerSecretSchema });
export type WorkerRegistered = z.infer<typeof WorkerRegisteredSchema>;

export const WorkerHandshakeSchema = z
  .object({
    token: z.string().min(1),
    protocolVersion: z.number().int(),
    /** The worker's Chorus version (CHORUS_VERSION); the coordinator refuses another, or none. */
    chorusVersion: z.string().min(1).max(64).optional(),
    /** Stable id of this worker process across reconnects (to reconcile its leases). */
    workerId: z.string().uuid(),
    /**
     * The secret issued at this id's first registration (`worker:registered`); absent on the first
     * connection of a new id. A known id without its secret is refused (WORKER_IDENTITY_REFUSED).
     */
    secret: WorkerSecretSchema.optional(),
    name: z.string().min(1).max(120),
    host: z.string().min(1).max(255),
    backend: z.enum(BACKENDS),
    device: z.string().min(1).max(255),
    slots: z.number().int().min(1).max(64),
    /** Members this worker still trains (after a reconnect). */
    activeMembers: z.array(id).max(64).default([]),
  })
  .strict();

/** What a worker needs to train one member. */
export const AssignmentSchema = z.object({
  runId: id,
  memberId: id,
  memberIndex: count,
  /** Incremented every time the member is handed out; stale messages of earlier attempts are refused. */
  attempt: z.number().int().min(1),
  config: RunConfigSchema,
  /** The model config of this member: overrides merged, seed derived. */
  model: MemberModelSpecSchema,
  dataset: z.object({
    /**
     * Not DATASET_NAMES: the bundle is content-addressed, so a worker trains a dataset it has no
     * reader for by downloading it; a known name only lets it build the bundle from a local copy.
     */
    name: z.string().min(1).max(120),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    /** Relative URL of the bundle: GET it with the worker token when the local cache lacks it. */
    url: z.string(),
    bytes: z.number().int().min(0),
  }),
  totalBatches: count,
  /** Where training resumes: 0 for a fresh member, else the checkpoint's plan offset. */
  planOffset: count,
  epoch: count,
  /** Present when the member resumes: the checkpoint to load (GET with the worker token). */
  checkpoint: z.object({ epoch: count, step: count, planOffset: count, url: z.string() }).nullable(),
});

export const LeaseRefSchema = z.object({ memberId: id, attempt: z.number().int().min(1).max(INT4_MAX) });

export const PlanRequestSchema = LeaseRefSchema.extend({
  offset: count,
  count: z.number().int().min(1).max(4096),
});
/** `indices` holds the batches back to back; `sizes[i]` is the length of batch offset + i. */
export const PlanChunkSchema = z.object({ offset: count, sizes: z.array(count), indices: bytes });

/** Packs mini-batches into a PlanChunk: the batches' indices back to back as little-endian Int32 bytes. */
export function packPlanChunk(offset: number, batches: readonly Int32Array[]): PlanChunk {
  const total = batches.reduce((n, b) => n + b.length, 0);
  const all = new Int32Array(total);
  let at = 0;
  for (const b of batches) {
    all.set(b, at);
    at += b.length;
  }
  // Little-endian on every platform we run on (x86, arm64): the wire format of index plans.
  return { offset, sizes: batches.map((b) => b.length), indices: new Uint8Array(all.buffer) };
}

export const MetricPointSchema = z.object({
  step: count,
  epoch: count,
  /** Cross-entropy: never negative, never beyond float32. */
  loss: z.number().min(0).max(FLOAT32_MAX),
  accuracy: fraction,
  samplesPerSecond: finite.pipe(z.number().min(0)),
});
export const MetricsMessageSchema = LeaseRefSchema.extend({
  points: z.array(MetricPointSchema).min(1).max(1000),
});

/** Softmax probabilities of one member on one split after evaluation round `round` (= epoch). */
export const PredictionsMessageSchema = LeaseRefSchema.extend({
  round: count,
  split: z.enum(SPLITS),
  rows: z.number().int().min(1).max(INT4_MAX),
  numClasses: z.number().int().min(2).max(INT4_MAX),
  /** rows × numClasses float32, little-endian. */
  probabilities: bytes,
});

/**
 * `epoch` is the epoch the checkpoint was taken in: at its end normally, or part-way through it
 * when the member is handed over (`planOffset` then lies inside that epoch).
 */
export const CheckpointMessageSchema = LeaseRefSchema.extend({
  epoch: count,
  step: count,
  planOffset: count,
  weights: bytes,
});

export const MemberDoneSchema = LeaseRefSchema.extend({
  samples: count,
  seconds: finite.pipe(z.number().min(0)),
});
export const MemberFailedSchema = LeaseRefSchema.extend({
  error: z.string().max(4000),
  /**
   * Set when the failure was loading the checkpoint the assignment gave (this epoch's): the
   * coordinator drops it, so the next attempt resumes from the previous one, then starts over.
   */
  checkpointEpoch: count.optional(),
});
/** The worker stopped a member on `member:handover`, after its checkpoint at `planOffset` was acknowledged. */
/**
 * `reason`: `handover` answers `member:handover`; `drain` is a worker that is shutting down
 * (SIGTERM, or the coordinator's `worker:drain`) handing its members back. Neither is a failure.
 */
export const MemberReleaseSchema = LeaseRefSchema.extend({
  planOffset: count,
  reason: z.enum(['handover', 'drain']).default('handover'),
});
export const HeartbeatSchema = z.object({ members: z.array(LeaseRefSchema).max(64) });

export type WorkerHandshake = z.input<typeof WorkerHandshakeSchema>;
export type Assignment = z.infer<typeof AssignmentSchema>;
export type LeaseRef = z.infer<typeof LeaseRefSchema>;
export type PlanRequest = z.infer<typeof PlanRequestSchema>;
export type PlanChunk = z.infer<typeof PlanChunkSchema>;
export type MetricsMessage = z.infer<typeof MetricsMessageSchema>;
export type PredictionsMessage = z.infer<typeof PredictionsMessageSchema>;
export type CheckpointMessage = z.infer<typeof CheckpointMessageSchema>;
export type MemberDone = z.infer<typeof MemberDoneSchema>;
export type MemberFailed = z.infer<typeof MemberFailedSchema>;
export type MemberRelease = z.input<typeof MemberReleaseSchema>;
export type Heartbeat = z.infer<typeof HeartbeatSchema>;
