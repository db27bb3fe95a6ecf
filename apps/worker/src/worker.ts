import { hostname } from 'node:os';
import { pino, type Logger } from 'pino';
import { Registry } from 'prom-client';
import { selectBackend, type BackendName } from '@chorus/models';
import {
  ChorusError,
  CoordinatorToWorkerCatalog,
  handleEvent,
  InvalidAnswerError,
  createHttpClient,
  LeaseRefSchema,
  PROTOCOL_VERSION,
  CHORUS_VERSION,
  type Assignment,
  type LeaseRef,
} from '@chorus/protocol';
import { Connection, delay } from './connection';
import { DatasetCache, RunDataProvider } from './dataset-cache';
import { DEFAULT_CACHE_DIR, type WorkerBackendPreference } from './env';
import { Heartbeat } from './heartbeat';
import { runMember } from './member-runner';
import { startOpsEndpoints, type OpsEndpoints } from './ops-endpoints';
import { createWorkerTelemetry } from './telemetry';
import { claimWorkerId } from './worker-identity';
import type { TlsTrust } from './tls-trust';

export interface WorkerOptions {
  coordinatorUrl: string;
  token: string;
  backend?: WorkerBackendPreference;
  /** GPU index for the tensorflow or webgpu backend; one worker process per GPU. */
  gpu?: number;
  /** `backend: 'webgpu'` may take a software adapter (CHORUS_WEBGPU_ALLOW_SOFTWARE). */
  allowSoftwareGpu?: boolean;
  /** Members trained side by side (default 1). */
  slots?: number;
  name?: string;
  /** Where dataset bundles are cached (default .chorus/cache). */
  cacheDir?: string;
  logger?: Logger;
  /** Lease renewal period (default 5 s; keep it well under the coordinator's lease time). */
  heartbeatMs?: number;
  /** How often an idle slot asks for work without a `work:available` (default 30 s). */
  pollMs?: number;
  /** Minimum time between two `metrics` messages of a member (default 500 ms). */
  metricsIntervalMs?: number;
  /** Batches per `plan:next` request (default 64). */
  planChunkSize?: number;
  /** Checkpoints larger than this go over HTTP (default CHECKPOINT_SOCKET_MAX_BYTES; tests lower it). */
  checkpointSocketMaxBytes?: number;
  /** Reconnect backoff: first delay and cap (defaults 500 ms and 30 s; connection.ts). */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** A private CA that signed the coordinator's certificate (`--ca`, CHORUS_CA: tls-trust.ts). */
  tls?: TlsTrust;
  /** Serve Prometheus metrics at GET /metrics on this port (0: a free one); off without it. */
  metricsPort?: number;
  /** Serve GET /health on this port (0: a free one; may equal metricsPort); off without it. */
  healthPort?: number;
  /** The interface both bind (default 127.0.0.1). */
  opsHost?: string;
  /** Where the worker's metrics are registered (default: a registry of its own). */
  metricsRegistry?: Registry;
}

export interface WorkerHandle {
  /** The id it registers under now (a new one when the coordinator refused the kept one). */
  readonly workerId: string;
  backend: BackendName;
  device: string;
  /**
   * Settles when the worker stops: resolves after close(), rejects with a ChorusError when the
   * coordinator refuses this worker for good (bad token, incompatible protocol).
   */
  finished: Promise<void>;
  /** Base URLs of the metrics and health servers, when they were asked for. */
  metricsUrl?: string;
  healthUrl?: string;
  /** Stops taking work, stops the members after their current step, disconnects. */
  close(): Promise<void>;
  /**
   * Stops taking work, checkpoints and releases every member at its next step (`member:release`
   * with reason `drain`; a member past its last batch finishes), then closes. The coordinator's
   * `worker:drain` does the same. Resolves once closed.
   */
  drain(reason: string): Promise<void>;
}

interface ActiveMember {
  attempt: number;
  controller: AbortController;
  /** Aborted on `member:handover` or a drain: checkpoint where training got to, then release the member. */
  handover: AbortController;
}

/**
 * Starts a worker: picks the tfjs backend, connects to the coordinator's `/workers` namespace, and
 * keeps `slots` members training. Resolves once connected; rejects when the coordinator refuses
 * the handshake for good. While the coordinator is unreachable it keeps retrying.
 */
export async function startWorker(options: WorkerOptions): Promise<WorkerHandle> {
  const logger = options.logger ?? pino({ name: 'chorus-worker' });
  const slots = options.slots ?? 1;
  if (!Number.isInteger(slots) || slots < 1 || slots > 64) {
    throw new ChorusError('invalid-input', `slots must be a whole number from 1 to 64, got ${slots}`);
  }
  const coordinatorUrl = options.coordinatorUrl.replace(/\/+$/, '');
  const selection = await selectBackend(options.backend ?? 'auto', {
    ...(options.gpu !== undefined ? { gpu: options.gpu } : {}),
    allowSoftwareGpu: options.allowSoftwareGpu === true,
  });
  const cacheDir = options.cacheDir ?? DEFAULT_CACHE_DIR;
  const identity = await claimWorkerId(cacheDir);
  const { workerId } = identity;
  const host = hostname();
  const name = options.name ?? `${host}${options.gpu !== undefined ? `-gpu${options.gpu}` : ''}`;
  const log = logger.child({ workerId });
  log.info(
    {
      backend: selection.backend,
      device: selection.device,
      detail: selection.detail,
      slots,
      idFile: identity.file,
    },
    'tfjs backend ready',
  );
  // Why not a faster backend, readable on a terminal too (pretty lines cut long fields such as
  // `detail`, not the message): its first sentence; the whole reason is in `detail`.
  for (const { backend, reason } of selection.skipped) {
    log.info({ passedOver: backend }, `passed over ${backend}: ${reason.split(/\.\s/)[0]}`);
  }

  const active = new Map<string, ActiveMember>();
  const telemetry = createWorkerTelemetry({
    registry: options.metricsRegistry ?? new Registry(),
    backend: selection.backend,
    device: selection.device,
    membersHeld: () => active.size,
  });
  const leases = (): LeaseRef[] => [...active].map(([memberId, m]) => ({ memberId, attempt: m.attempt }));
  const connection = new Connection({
    url: coordinatorUrl,
    ...(options.tls && { ca: options.tls.ca }),
    logger: log,
    ...(options.reconnectMinMs !== undefined ? { reconnectMinMs: options.reconnectMinMs } : {}),
    ...(options.reconnectMaxMs !== undefined ? { reconnectMaxMs: options.reconnectMaxMs } : {}),
    // README "Identity": the id and the secret issued to it; a refused pair gives way to a new id.
    onIdentityRefused: () => {
      identity.renew();
      log.warn(
        { newWorkerId: identity.workerId },
        'the coordinator refused this worker id: taking a new one',
      );
    },
    handshake: () => ({
      token: options.token,
      protocolVersion: PROTOCOL_VERSION,
      chorusVersion: CHORUS_VERSION,
      workerId: identity.workerId,
      ...(identity.secret !== null && { secret: identity.secret }),
      name,
      host,
      backend: selection.backend,
      device: selection.device,
      slots,
      activeMembers: [...active.keys()],
    }),
  });

  const revoke = (lease: LeaseRef, reason: string): void => {
    const member = active.get(lease.memberId);
    // A revoke of a later attempt also ends this one: the member was handed out again meanwhile.
    if (member === undefined || lease.attempt < member.attempt) return;
    log.info({ memberId: lease.memberId, attempt: lease.attempt, reason }, 'lease revoked');
    member.controller.abort(new ChorusError('conflict', `lease revoked: ${reason}`));
  };
  const handOver = (lease: LeaseRef, reason: string): void => {
    const member = active.get(lease.memberId);
    // Only the attempt named: any other is not this worker's to hand over (or is already gone).
    if (member === undefined || member.attempt !== lease.attempt) {
      log.info(
        { memberId: lease.memberId, attempt: lease.attempt, held: member?.attempt },
        'ignoring a handover of a member this worker does not hold under that attempt',
      );
      return;
    }
    log.info({ memberId: lease.memberId, attempt: lease.attempt, reason }, 'member handover requested');
    member.handover.abort(new ChorusError('conflict', `handover: ${reason}`));
  };
  const heartbeat = new Heartbeat({
    connection,
    intervalMs: options.heartbeatMs ?? 5_000,
    leases,
    onRevoked: (lease) => revoke(lease, 'the coordinator no longer honours it'),
    logger: log,
  });

  // The coordinator's lease length decides how often to beat; ask on every (re)connection, since a
  // restarted coordinator may have another. Best effort: the default interval stays otherwise.
  connection.socket.on('connect', () => {
    void fetchLeaseMs(coordinatorUrl, options.token, options.tls).then((leaseMs) => {
      if (leaseMs !== undefined) heartbeat.fitLease(leaseMs);
    });
  });

  // Idle slots sleep until `work:available`, a reconnection, the poll timer, or shutdown.
  const stopping = new AbortController();
  /** Aborted when the worker drains: no more requests; members are handed back (their `handover`). */
  const draining = new AbortController();
  let wakeIdle: () => void = () => undefined;
  let idle = new Promise<void>((resolve) => (wakeIdle = resolve));
  // Counts wake-ups, so a slot whose request crossed a `work:available` asks again at once.
  let wakeups = 0;
  const wake = (): void => {
    wakeups++;
    const resolve = wakeIdle;
    idle = new Promise<void>((r) => (wakeIdle = r));
    resolve();
  };
  connection.socket.on('work:available', wake);
  connection.socket.on('connect', wake);
  const ignoring = {
    onRefused: (event: string, refusal: { message: string }, payload: unknown) =>
      log.warn({ payload, reason: refusal.message }, `ignoring a malformed ${event}`),
  };
  handleEvent(
    connection.socket,
    CoordinatorToWorkerCatalog,
    'worker:registered',
    async ({ workerId: id, secret }) => {
      try {
        await identity.adopt(id, secret);
        log.info({ workerId: id, file: identity.file }, 'registered: session secret kept');
      } catch (error) {
        // Kept in memory still: this process reconnects as this worker; a restart takes a new id.
        log.error({ err: error, file: identity.file }, 'cannot write the worker identity file');
      }
    },
    ignoring,
  );
  handleEvent(
    connection.socket,
    CoordinatorToWorkerCatalog,
    'member:revoke',
    ({ reason, ...lease }) => revoke(lease, reason),
    ignoring,
  );
  handleEvent(
    connection.socket,
    CoordinatorToWorkerCatalog,
    'member:handover',
    ({ reason, ...lease }) => handOver(lease, reason),
    ignoring,
  );
  handleEvent(
    connection.socket,
    CoordinatorToWorkerCatalog,
    'worker:drain',
    ({ reason }) => void drain(`the coordinator asked: ${reason}`),
    ignoring,
  );

  const data = new RunDataProvider(
    new DatasetCache({
      cacheDir,
      coordinatorUrl,
      token: options.token,
      ...(options.tls && { tls: options.tls }),
      logger: log,
    }),
  );

  const waitForWork = (ms: number): Promise<void> =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        stopping.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      stopping.signal.addEventListener('abort', done, { once: true });
      void idle.then(done);
    });

  const nextAssignment = async (): Promise<Assignment | null> => {
    let invalid: InvalidAnswerError;
    try {
      return (await connection.request('member:request', {}, { signal: stopping.signal })).assignment;
    } catch (e) {
      if (!(e instanceof InvalidAnswerError)) throw e;
      invalid = e;
    }
    // An assignment this worker cannot read: hand it back as failed, so it is not held until its lease expires.
    const ref = LeaseRefSchema.safeParse((invalid.answer as { assignment?: unknown } | null)?.assignment);
    const error = `the worker cannot read its assignment: ${invalid.message}`.slice(0, 4000);
    log.error({ error }, 'malformed assignment');
    if (ref.success)
      await connection.request('member:failed', { ...ref.data, error }, { signal: stopping.signal });
    return null;
  };

  const train = async (assignment: Assignment): Promise<void> => {
    const controller = new AbortController();
    const handover = new AbortController();
    const onStop = () => controller.abort(stopping.signal.reason);
    if (stopping.signal.aborted) onStop();
    else stopping.signal.addEventListener('abort', onStop, { once: true });
    active.set(assignment.memberId, { attempt: assignment.attempt, controller, handover });
    if (draining.signal.aborted) handover.abort(draining.signal.reason);
    try {
      await runMember({
        assignment,
        connection,
        data,
        coordinatorUrl,
        token: options.token,
        workerId,
        ...(options.checkpointSocketMaxBytes !== undefined && {
          checkpointSocketMaxBytes: options.checkpointSocketMaxBytes,
        }),
        ...(options.tls && { tls: options.tls }),
        logger: log,
        signal: controller.signal,
        handover: handover.signal,
        releaseReason: () => (draining.signal.aborted ? 'drain' : 'handover'),
        renewLease: () => heartbeat.renew(),
        onTrained: (window) => telemetry.trained(assignment.memberId, window),
        ...(options.metricsIntervalMs !== undefined ? { metricsIntervalMs: options.metricsIntervalMs } : {}),
        ...(options.planChunkSize !== undefined ? { planChunkSize: options.planChunkSize } : {}),
      });
    } finally {
      stopping.signal.removeEventListener('abort', onStop);
      telemetry.ended(assignment.memberId);
      if (active.get(assignment.memberId)?.controller === controller) active.delete(assignment.memberId);
    }
  };

  const slotLoop = async (slot: number): Promise<void> => {
    let failures = 0;
    while (!stopping.signal.aborted && !draining.signal.aborted) {
      try {
        const seen = wakeups;
        const assignment = await nextAssignment();
        failures = 0;
        if (stopping.signal.aborted) break;
        // A member that arrived while draining is released again at once (train: its handover is aborted).
        if (assignment === null) {
          if (wakeups === seen) await waitForWork(options.pollMs ?? 30_000);
          continue;
        }
        log.info({ slot, runId: assignment.runId, member: assignment.memberIndex }, 'got a member');
        await train(assignment);
      } catch (error) {
        if (stopping.signal.aborted || draining.signal.aborted) break;
        failures++;
        log.warn({ slot, err: String(error) }, 'asking for work failed; retrying');
        await delay(
          Math.min(30_000, 1_000 * 2 ** Math.min(failures, 5)),
          AbortSignal.any([stopping.signal, draining.signal]),
        ).catch(() => undefined);
      }
    }
  };

  // Before connecting: a supervisor sees 503 while the coordinator is out of reach.
  let ops: OpsEndpoints;
  try {
    ops = await startOpsEndpoints({
      host: options.opsHost ?? '127.0.0.1',
      ...(options.metricsPort !== undefined && { metricsPort: options.metricsPort }),
      ...(options.healthPort !== undefined && { healthPort: options.healthPort }),
      registry: telemetry.registry,
      health: () => {
        const last = telemetry.lastStepAt();
        return {
          ok: connection.socket.connected,
          connected: connection.socket.connected,
          draining: draining.signal.aborted,
          workerId,
          name,
          backend: selection.backend,
          device: selection.device,
          slots,
          membersHeld: active.size,
          lastStepAgeMs: last === undefined ? null : Math.max(0, Date.now() - last),
        };
      },
    });
  } catch (error) {
    await identity.release();
    throw error;
  }
  if (ops.metricsUrl !== undefined)
    log.info({ url: `${ops.metricsUrl}/metrics` }, 'serving Prometheus metrics');
  if (ops.healthUrl !== undefined) log.info({ url: `${ops.healthUrl}/health` }, 'serving health');
  try {
    await connection.open();
  } catch (error) {
    await ops.close();
    await identity.release();
    throw error;
  }
  heartbeat.start();
  const loops = Array.from({ length: slots }, (_, slot) => slotLoop(slot));

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      log.info({ active: active.size }, 'worker stopping');
      stopping.abort(new ChorusError('unavailable', 'the worker is shutting down'));
      wake();
      await Promise.allSettled(loops);
      heartbeat.stop();
      connection.close();
      await ops.close();
      await identity.release();
      log.info('worker stopped');
    })());

  let drained: Promise<void> | null = null;
  function drain(reason: string): Promise<void> {
    return (drained ??= (async () => {
      log.info({ active: active.size, reason }, 'draining: handing members back, then stopping');
      draining.abort(new ChorusError('conflict', `drain: ${reason}`));
      for (const member of active.values()) member.handover.abort(draining.signal.reason);
      wake();
      await Promise.allSettled(loops);
      log.info('drained: every member handed back');
      await close();
    })());
  }

  const finished = new Promise<void>((resolve, reject) => {
    connection.fatal.catch(async (error: unknown) => {
      await close();
      reject(error as Error);
    });
    // Loops end on close() or on a drain (which then closes).
    void Promise.allSettled(loops).then(() => (closing ?? drained)?.then(resolve));
  });
  finished.catch(() => undefined);

  return {
    get workerId() {
      return identity.workerId;
    },
    backend: selection.backend,
    device: selection.device,
    ...(ops.metricsUrl !== undefined && { metricsUrl: ops.metricsUrl }),
    ...(ops.healthUrl !== undefined && { healthUrl: ops.healthUrl }),
    finished,
    close,
    drain,
  };
}

async function fetchLeaseMs(
  coordinatorUrl: string,
  token: string,
  tls?: TlsTrust,
): Promise<number | undefined> {
  try {
    const client = createHttpClient({ baseUrl: coordinatorUrl, token, ...(tls && { init: tls.fetchInit }) });
    const health = await client.health(undefined, {
      signal: AbortSignal.timeout(5_000),
    });
    return health.leaseMs;
  } catch {
    return undefined;
  }
}
