import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
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
import { createDatasetStore } from './dataset-store';
import { sendHttpError } from './errors';
import { MAX_BODY_BYTES, onlyTableRoutes } from './http/route';
import { registerRunRoutes } from './http/runs.routes';
import { registerSystemRoutes } from './http/system.routes';
import { createMetricsBuffer } from './metrics-buffer';
import type { Notifiers } from './notifications';
import { registerDatabaseGauges, type CoordinatorTelemetry } from './telemetry';
import { createGatherService } from './services/gather.service';
import { createPlanService } from './services/plan.service';
import { createRunService } from './services/run.service';
import { createLeaseTable } from './services/lease-table';
import { createHandoverService, type HandoverOptions } from './services/handover.service';
import { createScheduler, type Scheduler } from './services/scheduler.service';
import { createTaskQueue } from './services/task-queue';
import {
  createDashboardNotifier,
  registerDashboardNamespace,
  type DashboardNamespace,
} from './sockets/dashboard-namespace';
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

/** Fastify (HTTP API) and socket.io (workers, dashboards) on one HTTP server, wired to the services. */
export async function createServer(deps: ServerDeps): Promise<ChorusServer> {
  const { repos, logger } = deps;
  const app: FastifyInstance = Fastify({
    loggerInstance: logger.child({ component: 'http' }) as FastifyBaseLogger,
    // Errors are logged by errors.ts; a line per request would drown the log.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: MAX_BODY_BYTES,
  });
  const io = new Server(app.server, {
    maxHttpBufferSize: MAX_SOCKET_MESSAGE_BYTES,
    serveClient: false,
    // Browsers may connect from the dashboard's origin; /workers is guarded by its token, /dashboard is read-only.
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
  const { datasetLimits } = deps;
  const plans = createPlanService({ repos, store, logger, datasetLimits });
  const runs = createRunService({
    repos,
    store,
    plans,
    notify,
    logger,
    datasetLimits,
    maxMemberParams: deps.maxMemberParams ?? DEFAULT_MAX_MEMBER_PARAMS,
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
    scheduler,
    plans,
    gather,
    metrics,
    queue,
    logger: logger.child({ component: 'workers' }),
    telemetry: deps.telemetry,
  });
  registerDashboardNamespace(dashboardNs, { repos, queue, logger: logger.child({ component: 'dashboard' }) });

  app.setErrorHandler((error, _request, reply) => sendHttpError(reply, error, logger));
  app.setNotFoundHandler((request, reply) =>
    sendHttpError(
      reply,
      new ChorusError('not-found', `no route ${request.method} ${request.url.split('?')[0]}`),
      logger,
    ),
  );
  onlyTableRoutes(app);
  registerSystemRoutes(app, {
    adminToken: deps.adminToken,
    workerToken: deps.workerToken,
    repos,
    store,
    clock: deps.clock,
    leaseMs: deps.leaseMs,
    scheduler,
    workers: notify.workers,
    metrics: deps.telemetry.registry,
  });
  registerRunRoutes(app, { adminToken: deps.adminToken, workerToken: deps.workerToken, repos, runs, plans });
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
    },
  };
}
