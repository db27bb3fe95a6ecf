import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Repositories } from '@chorus/db';
import { listDatasets } from '@chorus/data';
import { ChorusError, PROTOCOL_VERSION } from '@chorus/protocol';
import type { DatasetStore } from '../dataset-store';
import type { WorkerNotifier } from '../notifications';
import type { Scheduler } from '../services/scheduler.service';
import { sendContentAddressed } from './dataset.routes';
import { registerRoute, type RouteTokens } from './route';

/** How long /api/health waits for the database's `SELECT 1` before it answers 503. */
export const HEALTH_TIMEOUT_MS = 2_000;

/**
 * The database's round trip in ms, or an `unavailable` error saying why (no answer within
 * `timeoutMs`, or the query's failure). Concurrent checks share one query, so a hung database
 * does not collect a query per health check.
 */
function createDatabasePing(repos: Repositories, timeoutMs: number): () => Promise<number> {
  let inFlight: Promise<void> | undefined;
  return async () => {
    const started = performance.now();
    inFlight ??= repos.ping().finally(() => (inFlight = undefined));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new ChorusError('unavailable', `the database did not answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      await Promise.race([inFlight, timeout]);
    } catch (error) {
      if (error instanceof ChorusError) throw error;
      // Its first line, and never a connection string (it may hold a password).
      const reason = (error instanceof Error ? error.message : String(error))
        .split('\n')[0]
        ?.replace(/postgres(?:ql)?:\/\/\S+/g, '<database url>')
        .slice(0, 200);
      throw new ChorusError('unavailable', `the database does not answer: ${reason}`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
    return Math.round((performance.now() - started) * 10) / 10;
  };
}

export function registerSystemRoutes(
  app: FastifyInstance,
  deps: RouteTokens & {
    repos: Repositories;
    store: DatasetStore;
    clock: () => Date;
    leaseMs: number;
    healthTimeoutMs?: number;
    scheduler: Scheduler;
    workers: WorkerNotifier;
    /** What GET /metrics serves (telemetry.ts). */
    metrics: Registry;
  },
): void {
  const ping = createDatabasePing(deps.repos, deps.healthTimeoutMs ?? HEALTH_TIMEOUT_MS);
  registerRoute(app, 'health', deps, async () => ({
    ok: true as const,
    protocolVersion: PROTOCOL_VERSION,
    database: { ok: true as const, latencyMs: await ping() },
    // Workers heartbeat well within this (a third of it, say).
    leaseMs: deps.leaseMs,
    time: deps.clock(),
  }));

  registerRoute(app, 'listWorkers', deps, async () => {
    const workers = await deps.repos.workers.list();
    return {
      workers: await Promise.all(
        workers.map(async (w) => ({
          ...w,
          members: (await deps.repos.members.listByWorker(w.id)).map((m) => ({
            memberId: m.id,
            runId: m.runId,
            index: m.index,
            status: m.status,
          })),
        })),
      ),
    };
  });

  // Prometheus' text format; the database gauges are read now (README "Metrics").
  registerRoute(app, 'metrics', deps, async ({ reply }) =>
    reply.header('content-type', deps.metrics.contentType).send(await deps.metrics.metrics()),
  );

  // Draining: the worker is leased nothing more, and told to release its members and exit.
  registerRoute(app, 'drainWorker', deps, async ({ params }) => {
    const worker = await deps.repos.workers.get(params.id);
    if (!worker) throw new ChorusError('not-found', `no worker ${params.id} (chorus workers lists them)`);
    if (!(await deps.workers.connected(worker.id))) {
      throw new ChorusError(
        'conflict',
        `worker ${worker.name} (${worker.id}) is not connected: there is nothing to drain`,
      );
    }
    deps.scheduler.drain(worker.id);
    // Counted before the worker is told: it may release its members before a later count returns.
    const members = (await deps.repos.members.listByWorker(worker.id)).length;
    deps.workers.drain(worker.id, 'an operator asked this worker to drain');
    return { id: worker.id, draining: true as const, members };
  });

  /** Which datasets a run can use without a `datasetPath` (the New run form marks the others). */
  registerRoute(app, 'listDatasets', deps, async () => ({ datasets: await listDatasets() }));

  /** The dataset bundle workers cache, content-addressed (ETag = its sha256). */
  registerRoute(app, 'getDataset', deps, async ({ params, reply }) =>
    sendContentAddressed(reply, params.sha256, await deps.store.open(params.sha256)),
  );
}
