import { createServer as createHttpsServer } from 'node:https';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyServerFactory,
} from 'fastify';
import type { Logger } from 'pino';
import { Server } from 'socket.io';
import type { ReadLimits } from '@chorus/data';
import type { Repositories } from '@chorus/db';
import {
  ChorusError,
  DASHBOARD_NAMESPACE,
  DEFAULT_MAX_MEMBER_PARAMS,
  MAX_SOCKET_MESSAGE_BYTES,
  WORKERS_NAMESPACE,
} from '@chorus/protocol';
import { createCheckpointStore } from './checkpoint-store';
import { createDatasetStore, createWeightsStore } from './dataset-store';
import type { AccessPolicy } from './http/auth';
import { sendHttpError } from './errors';
import { registerCheckpointRoutes } from './http/checkpoint.routes';
import { MAX_BODY_BYTES, onlyTableRoutes, streamBinaryBodies } from './http/route';
import { registerRunRoutes } from './http/runs.routes';
import { registerSystemRoutes } from './http/system.routes';
import { DEFAULT_UPLOAD_MAX_BYTES, registerDatasetRoutes } from './http/dataset.routes';
import { createMetricsBuffer } from './metrics-buffer';
import type { Notifiers } from './notifications';
import { registerDatabaseGauges, type CoordinatorTelemetry } from './telemetry';
import { createGatherService } from './services/gather.service';
import { createPlanService } from './services/plan.service';
import { createRunService } from './services/run.service';
import { createRunPredictor } from './services/run-predictor';
import { createLeaseTable } from './services/lease-table';
import { createHandoverService, type HandoverOptions } from './services/handover.service';
import { createScheduler, type Scheduler } from './services/scheduler.service';
import { createTaskQueue } from './services/task-queue';
import {
  createDashboardNotifier,
  registerDashboardNamespace,
  type DashboardNamespace,
} from './sockets/dashboard-namespace';
import type { RateLimits } from './sockets/rate-limit';
import {
  createWorkerNotifier,
  registerWorkersNamespace,
  type WorkersNamespace,
} from './sockets/workers-namespace';

export interface ServerDeps {
  repos: Repositories;
  logger: Logger;
  clock: () => Date;
  dataDir: string;
  leaseMs: number;
  workerToken: string;
  adminToken: string;
  viewerToken: string;
  /** Reads need a token too (bound beyond loopback, or --require-auth): http/auth.ts. */
  requireAuth: boolean;
  /** Serve HTTPS (and socket.io over it) with this certificate and key (PEM). */
  tls?: { cert: Buffer; key: Buffer };
  metricsFlushMs?: number;
  metricsNotifyMs?: number;
  /** Straggler handover (handover.service.ts): on by default; false turns it off. */
  handover?: HandoverOptions | false;
  /** Scheduler `retryBackoffMs` (coordinator.ts). */
  retryBackoffMs?: number;
  /** Where a run's `datasetPath` may point and how large its files may be (dataset-paths.ts). */
  datasetLimits: ReadLimits;
  /** The most parameters one member of a run may have (default DEFAULT_MAX_MEMBER_PARAMS). */
  maxMemberParams?: number;
  /** Per-worker message budgets (sockets/rate-limit.ts). */
  rateLimits?: RateLimits;
  /** The largest dataset bundle an upload may hold (default DEFAULT_UPLOAD_MAX_BYTES, 4 GiB). */
  uploadMaxBytes?: number;
  /** Prometheus metrics (telemetry.ts), served at GET /metrics. */
  telemetry: CoordinatorTelemetry;
}

export interface ChorusServer {
  app: FastifyInstance;
  io: Server;
  scheduler: Scheduler;
  /** Stops accepting, disconnects every socket, waits for handlers, flushes metrics, finishes evaluations. */
  close(): Promise<void>;
}

/** An HTTPS server in place of fastify's HTTP one: the same request handler, over TLS. */
function httpsServerFactory(tls: { cert: Buffer; key: Buffer }): FastifyServerFactory {
  return (handler) => createHttpsServer(tls, handler);
}

/** Fastify (HTTP API) and socket.io (workers, dashboards) on one HTTP server, wired to the services. */
export async function createServer(deps: ServerDeps): Promise<ChorusServer> {
  const { repos, logger } = deps;
  const app: FastifyInstance = Fastify({
    loggerInstance: logger.child({ component: 'http' }) as FastifyBaseLogger,
    // Errors are logged by errors.ts; a line per request would drown the log.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: MAX_BODY_BYTES,
    // socket.io rides the same server, so it is wss:// whenever this is https://.
    ...(deps.tls && { serverFactory: httpsServerFactory(deps.tls) }),
  });
  const policy: AccessPolicy = {
    adminToken: deps.adminToken,
    workerToken: deps.workerToken,
    viewerToken: deps.viewerToken,
    requireAuth: deps.requireAuth,
  };
  const io = new Server(app.server, {
    maxHttpBufferSize: MAX_SOCKET_MESSAGE_BYTES,
    serveClient: false,
    // Browsers may connect from the dashboard's origin; /workers is guarded by its token, /dashboard
    // is read-only and behind the viewer level (a ticket from the dashboard server).
    cors: { origin: true },
  });
  io.use((_socket, next) =>
    next(new Error(`connect to ${WORKERS_NAMESPACE} (workers) or ${DASHBOARD_NAMESPACE} (dashboards)`)),
  );
  const workersNs = io.of(WORKERS_NAMESPACE) as unknown as WorkersNamespace;
  const dashboardNs = io.of(DASHBOARD_NAMESPACE) as unknown as DashboardNamespace;
  const leases = createLeaseTable({ ttlMs: deps.leaseMs });
  const notify: Notifiers = {
    workers: createWorkerNotifier(workersNs, leases, deps.telemetry),
    dashboards: createDashboardNotifier(dashboardNs),
  };

  const queue = createTaskQueue();
  const store = createDatasetStore(deps.dataDir);
  const weights = createWeightsStore(deps.dataDir);
  const checkpoints = createCheckpointStore(deps.dataDir, repos);
  // Uploads a previous process was receiving when it stopped, and the checkpoints of members whose
  // run was deleted in the database itself or while the coordinator was down.
  await checkpoints.removeParts();
  const orphans = await checkpoints.removeOrphans();
  if (orphans > 0)
    logger.info({ removed: orphans }, 'removed the checkpoints of members that no longer exist');
  const maxMemberParams = deps.maxMemberParams ?? DEFAULT_MAX_MEMBER_PARAMS;
  const { datasetLimits } = deps;
  const plans = createPlanService({ repos, store, logger, datasetLimits });
  const runs = createRunService({
    repos,
    store,
    weights,
    plans,
    notify,
    logger,
    datasetLimits,
    maxMemberParams,
    checkpoints,
    dataDir: deps.dataDir,
  });
  const scheduler = createScheduler({
    repos,
    plans,
    store,
    runs,
    notify,
    leases,
    leaseMs: deps.leaseMs,
    ...(deps.retryBackoffMs !== undefined && { retryBackoffMs: deps.retryBackoffMs }),
    logger,
    telemetry: deps.telemetry,
    handover:
      deps.handover === false
        ? null
        : createHandoverService({
            repos,
            plans,
            notify,
            logger,
            ...(deps.handover !== undefined && { options: deps.handover }),
            now: () => deps.clock().getTime(),
          }),
  });
  const gather = createGatherService({
    repos,
    plans,
    runs,
    queue,
    notify,
    logger,
    telemetry: deps.telemetry,
  });
  registerDatabaseGauges(deps.telemetry, repos);
  const metrics = createMetricsBuffer({
    repos,
    plans,
    notify,
    logger,
    clock: deps.clock,
    telemetry: deps.telemetry,
    ...(deps.metricsFlushMs !== undefined && { flushMs: deps.metricsFlushMs }),
    ...(deps.metricsNotifyMs !== undefined && { notifyMs: deps.metricsNotifyMs }),
  });

  registerWorkersNamespace(workersNs, {
    workerToken: deps.workerToken,
    repos,
    checkpoints,
    scheduler,
    plans,
    gather,
    metrics,
    queue,
    logger: logger.child({ component: 'workers' }),
    ...(deps.rateLimits !== undefined && { rateLimits: deps.rateLimits }),
    telemetry: deps.telemetry,
  });
  registerDashboardNamespace(dashboardNs, {
    repos,
    queue,
    logger: logger.child({ component: 'dashboard' }),
    policy,
    now: () => deps.clock().getTime(),
  });

  app.setErrorHandler((error, _request, reply) => sendHttpError(reply, error, logger));
  app.setNotFoundHandler((request, reply) =>
    sendHttpError(
      reply,
      new ChorusError('not-found', `no route ${request.method} ${request.url.split('?')[0]}`),
      logger,
    ),
  );
  onlyTableRoutes(app);
  streamBinaryBodies(app);
  registerSystemRoutes(app, {
    ...policy,
    repos,
    store,
    clock: deps.clock,
    leaseMs: deps.leaseMs,
    scheduler,
    workers: notify.workers,
    metrics: deps.telemetry.registry,
  });
  registerCheckpointRoutes(app, { ...policy, repos, checkpoints, scheduler, plans, maxMemberParams });
  await registerDatasetRoutes(app, {
    ...policy,
    store,
    weights,
    uploadMaxBytes: deps.uploadMaxBytes ?? DEFAULT_UPLOAD_MAX_BYTES,
  });

  const predictor = createRunPredictor({ repos, plans, checkpoints, dataDir: deps.dataDir, logger });
  registerRunRoutes(app, { ...policy, repos, runs, plans, predictor, checkpoints });
  await app.ready();

  return {
    app,
    io,
    scheduler,
    async close() {
      // Sockets first: an open websocket would keep the HTTP server from closing.
      await io.close();
      await app.close();
      await queue.idle();
      await metrics.close();
      await queue.idle();
      await gather.close();
      await predictor.close();
    },
  };
}
