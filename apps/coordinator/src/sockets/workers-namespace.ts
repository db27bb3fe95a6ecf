import type { Logger } from 'pino';
import type { Namespace } from 'socket.io';
import type { Repositories } from '@chorus/db';
import {
  CoordinatorToWorkerCatalog,
  emitEvent,
  formatIssues,
  handleEvent,
  BACKENDS,
  CHORUS_VERSION,
  PROTOCOL_VERSION,
  WORKER_IDENTITY_REFUSED,
  connectRefusal,
  WorkerHandshakeSchema,
  WorkerToCoordinatorCatalog,
  type CoordinatorToWorkerEvents,
  type ParsedMessageOf,
  type HandlerResultOf,
  type WorkerToCoordinatorEvents,
} from '@chorus/protocol';
import type { CheckpointStore } from '../checkpoint-store';
import type { MetricsBuffer } from '../metrics-buffer';
import type { WorkerNotifier } from '../notifications';
import type { GatherService } from '../services/gather.service';
import type { LeaseTable } from '../services/lease-table';
import type { PlanService } from '../services/plan.service';
import { WorkerIdentityError, type Scheduler } from '../services/scheduler.service';
import type { TaskQueue } from '../services/task-queue';
import {
  boundsOf,
  checkCheckpointBytes,
  checkCheckpointNumbers,
  checkMetricPoints,
  checkPlanOffset,
} from '../services/worker-numbers';
import type { CoordinatorTelemetry } from '../telemetry';
import { tokenMatches } from '../tokens';
import { coordinatorHandling } from './acks';
import { createWorkerBudget, DEFAULT_RATE_LIMITS, type RateLimits } from './rate-limit';

export interface WorkerSocketData {
  workerId: string;
  name: string;
  slots: number;
  activeMembers: string[];
}

export type WorkersNamespace = Namespace<
  WorkerToCoordinatorEvents,
  CoordinatorToWorkerEvents,
  Record<string, never>,
  WorkerSocketData
>;

const workerRoom = (workerId: string): string => `worker:${workerId}`;

/**
 * Why a handshake's Chorus version or backend cannot work with this coordinator, said so the
 * operator knows what to change; undefined when they can.
 */
function versionRefusal(auth: Record<string, unknown>): string | undefined {
  const version = auth.chorusVersion;
  if (version === undefined) {
    return `this worker does not say its Chorus version (it is older than ${CHORUS_VERSION}): run Chorus ${CHORUS_VERSION}, the coordinator's version`;
  }
  if (version !== CHORUS_VERSION) {
    return `worker is Chorus ${String(version).slice(0, 64)}, this coordinator is Chorus ${CHORUS_VERSION}: run the same version on both`;
  }
  if (!(BACKENDS as readonly unknown[]).includes(auth.backend)) {
    return `backend ${JSON.stringify(String(auth.backend).slice(0, 64))} is not one this coordinator can train with (${BACKENDS.join(', ')}): start the worker with --backend ${BACKENDS.join('|')}`;
  }
  return undefined;
}

/** `leases`: a revoked lease is dropped from the coordinator's lease table at once. */
export function createWorkerNotifier(
  ns: WorkersNamespace,
  leases?: LeaseTable,
  telemetry?: CoordinatorTelemetry,
): WorkerNotifier {
  return {
    workAvailable: () => emitEvent(ns, CoordinatorToWorkerCatalog, 'work:available'),
    workAvailableFor: (workerId) =>
      emitEvent(ns.to(workerRoom(workerId)), CoordinatorToWorkerCatalog, 'work:available'),
    handover: (workerId, lease, reason) =>
      emitEvent(ns.to(workerRoom(workerId)), CoordinatorToWorkerCatalog, 'member:handover', {
        ...lease,
        reason,
      }),
    drain: (workerId, reason) =>
      emitEvent(ns.to(workerRoom(workerId)), CoordinatorToWorkerCatalog, 'worker:drain', { reason }),
    connected: async (workerId) => (await ns.in(workerRoom(workerId)).fetchSockets()).length > 0,
    revoke: (workerId, lease, reason) => {
      leases?.forget(lease.memberId);
      telemetry?.leasesRevoked.inc();
      emitEvent(ns.to(workerRoom(workerId)), CoordinatorToWorkerCatalog, 'member:revoke', {
        ...lease,
        reason,
      });
    },
  };
}

/** The `/workers` namespace: authentication, then one handler per event of the protocol. */
export function registerWorkersNamespace(
  ns: WorkersNamespace,
  deps: {
    workerToken: string;
    repos: Repositories;
    checkpoints: CheckpointStore;
    scheduler: Scheduler;
    plans: PlanService;
    gather: GatherService;
    metrics: MetricsBuffer;
    queue: TaskQueue;
    logger: Logger;
    /** Per-connection budgets (rate-limit.ts); DEFAULT_RATE_LIMITS when not given. */
    rateLimits?: RateLimits;
    telemetry?: CoordinatorTelemetry;
  },
): void {
  const { scheduler, logger } = deps;
  /** The secret issued to a connection that registered a new worker id, until it is sent to it. */
  const issuedSecrets = new WeakMap<object, string>();

  ns.use((socket, next) => {
    const auth = (socket.handshake.auth ?? {}) as Record<string, unknown>;
    if (!tokenMatches(deps.workerToken, auth.token)) {
      logger.warn({ address: socket.handshake.address }, 'worker refused: bad token');
      return next(
        connectRefusal(
          'unauthorized',
          "invalid worker token: pass the coordinator's worker token as auth.token (CHORUS_WORKER_TOKEN, or workerToken in the coordinator's tokens.json)",
        ),
      );
    }
    if (auth.protocolVersion !== PROTOCOL_VERSION) {
      return next(
        connectRefusal(
          'invalid-input',
          `protocol version ${String(auth.protocolVersion)} is not supported: this coordinator speaks version ${PROTOCOL_VERSION}; run a matching worker`,
        ),
      );
    }
    const refused = versionRefusal(auth);
    if (refused !== undefined) {
      logger.warn({ address: socket.handshake.address, reason: refused }, 'worker refused');
      return next(connectRefusal('invalid-input', refused));
    }
    const parsed = WorkerHandshakeSchema.safeParse(auth);
    if (!parsed.success)
      return next(
        connectRefusal('invalid-input', `invalid worker handshake:\n${formatIssues(parsed.error)}`),
      );
    const handshake = parsed.data;
    socket.data = {
      workerId: handshake.workerId,
      name: handshake.name,
      slots: handshake.slots,
      activeMembers: handshake.activeMembers,
    };
    deps.queue.track(scheduler.register(handshake)).then(
      ({ issuedSecret }) => {
        if (issuedSecret !== null) issuedSecrets.set(socket, issuedSecret);
        next();
      },
      (error: unknown) => {
        if (error instanceof WorkerIdentityError) {
          logger.warn(
            { workerId: handshake.workerId, address: socket.handshake.address },
            'worker refused: its id is registered with another secret',
          );
          return next(connectRefusal(error.code, error.message, WORKER_IDENTITY_REFUSED));
        }
        logger.error({ err: error }, 'registering a worker failed');
        next(
          connectRefusal('unavailable', 'the coordinator cannot register workers right now; retry shortly'),
        );
      },
    );
  });

  ns.on('connection', (socket) => {
    const { workerId, name, slots } = socket.data;
    const log = logger.child({ workerId, worker: name });
    log.info('worker connected');
    const secret = issuedSecrets.get(socket);
    if (secret !== undefined) {
      issuedSecrets.delete(socket);
      emitEvent(socket, CoordinatorToWorkerCatalog, 'worker:registered', { workerId, secret });
    }
    void socket.join(workerRoom(workerId));
    deps.queue
      .track(scheduler.reconcile(workerId, socket.data.activeMembers))
      .catch((error: unknown) =>
        log.error({ err: error }, 'reconciling the leases of a reconnected worker failed'),
      );

    const budget = createWorkerBudget(deps.rateLimits ?? DEFAULT_RATE_LIMITS, slots);
    let limited = 0;
    const handling = coordinatorHandling(log, deps.queue, {
      admit: (event, payload) => {
        const refusal = budget.admit(event, payload);
        // Said once per burst of refusals, not once per message.
        if (refusal !== undefined && limited++ % 1000 === 0)
          log.warn({ event, refused: limited }, 'worker over its message budget: answering rate-limited');
        return refusal;
      },
      ...(deps.telemetry && { telemetry: deps.telemetry }),
    });
    type Catalog = typeof WorkerToCoordinatorCatalog;
    const on = <E extends keyof Catalog & string>(
      event: E,
      handler: (payload: ParsedMessageOf<Catalog, E>) => Promise<HandlerResultOf<Catalog, E>>,
    ) => handleEvent(socket, WorkerToCoordinatorCatalog, event, handler, handling);

    on('member:request', async () => ({ assignment: await scheduler.claim(workerId, slots) }));

    // Read-only messages are checked against the lease table (the database when it does not know).
    on('plan:next', async (request) => {
      const member = await scheduler.requireKnownLease(workerId, request);
      const data = await deps.plans.forRun(member.runId);
      return { chunk: deps.plans.chunk(data, member.index, request.offset, request.count) };
    });

    on('metrics', async (message) => {
      const member = await scheduler.requireKnownLease(workerId, message);
      // Refused whole before it reaches the buffer, where it would share a write with other workers' points.
      checkMetricPoints(boundsOf(await deps.plans.forRun(member.runId), member.index), message.points);
      deps.metrics.add(member, workerId, message.points);
      scheduler.progressed(member, Math.max(...message.points.map((p) => p.step)));
      return {};
    });

    on('predictions', async (message) => {
      const member = await scheduler.requireLease(workerId, message);
      await deps.gather.savePredictions(member, message);
      return {};
    });

    on('checkpoint', async (message) => {
      const member = await scheduler.requireLease(workerId, message);
      // An epoch beyond the run would become the "latest" checkpoint and prune the real ones.
      const data = await deps.plans.forRun(member.runId);
      try {
        checkCheckpointNumbers(boundsOf(data, member.index), message);
        checkCheckpointBytes(data, member.index, message.weights);
      } catch (error) {
        // The member's failure that follows is the checkpoint's, not the member's own (README "Attempts").
        scheduler.checkpointRefused(message);
        throw error;
      }
      await deps.checkpoints.saveBytes({
        memberId: member.id,
        epoch: message.epoch,
        step: message.step,
        planOffset: message.planOffset,
        weights: message.weights,
      });
      return {};
    });

    on('member:done', async (message) => {
      // A retried `member:done` (the first ack was lost) is acknowledged again.
      const member = await scheduler.requireLease(workerId, message, { allowCompleted: true });
      await deps.metrics.flush(); // its last points before the member is closed
      await deps.gather.memberDone(member, workerId, message);
      scheduler.completed(member.id);
      return {};
    });

    on('member:failed', async (message) => {
      const member = await scheduler.requireLease(workerId, message);
      // The worker could not load the checkpoint it was given: the next attempt gets the older one.
      const checkpointRemoved =
        message.checkpointEpoch !== undefined &&
        (await deps.checkpoints.remove(member.id, message.checkpointEpoch));
      return scheduler.memberFailed(workerId, member, message.error, { checkpointRemoved });
    });

    on('member:release', async (message) => {
      const member = await scheduler.requireLease(workerId, message);
      checkPlanOffset(boundsOf(await deps.plans.forRun(member.runId), member.index), message.planOffset);
      await deps.metrics.flush(); // its last points while the lease is still this worker's
      await scheduler.released(workerId, member, message.planOffset, message.reason);
      return {};
    });

    on('heartbeat', async (message) => ({
      revoked: await scheduler.heartbeat(workerId, message.members),
    }));

    socket.on('disconnect', (reason) => {
      log.info({ reason }, 'worker disconnected');
      const work = (async () => {
        // Still connected through another socket (a reconnect overtook this disconnect)?
        if ((await ns.in(workerRoom(workerId)).fetchSockets()).length > 0) return;
        await scheduler.disconnected(workerId);
      })();
      deps.queue
        .track(work)
        .catch((error: unknown) => log.error({ err: error }, 'marking a worker offline failed'));
    });
  });
}
