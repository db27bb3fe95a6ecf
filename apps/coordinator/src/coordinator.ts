import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { pino, type Logger } from 'pino';
import { Registry } from 'prom-client';
import {
  applyMigrations,
  createBytesWriter,
  createPrismaClient,
  createRepositories,
  resolveDatabase,
  systemClock,
  type PrismaClient,
  type ResolvedDatabase,
} from '@chorus/db';
import { builtInDatasetRoots } from '@chorus/data';
import { ChorusError, EMBEDDED_DATABASE_FILE, type EmbeddedDatabaseFile } from '@chorus/protocol';
import { DEFAULT_DATASET_MAX_BYTES } from './dataset-paths';
import { createServer, type ChorusServer } from './server';
import type { HandoverOptions } from './services/handover.service';
import type { RateLimits } from './sockets/rate-limit';
import { createCoordinatorTelemetry } from './telemetry';
import { resolveTokens } from './tokens';
import { resolveTransportSecurity } from './transport-security';

export interface CoordinatorOptions {
  /** Interface to bind (default 127.0.0.1: loopback only unless told otherwise). */
  host?: string;
  /** Port (default 4000; 0 = a free one). */
  port?: number;
  /** Where tokens.json, dataset bundles and the embedded database live (default `.chorus`). */
  dataDir?: string;
  /** A Postgres server; without it the embedded PGlite under `<dataDir>/pgdata`. */
  databaseUrl?: string | undefined;
  /** Without them, the tokens of `<dataDir>/tokens.json` (generated on first start). */
  workerToken?: string | undefined;
  adminToken?: string | undefined;
  viewerToken?: string | undefined;
  /**
   * Reads (the `viewer` level) need a token even on loopback. Bound beyond loopback they always
   * do (README "Operating Chorus", "Tokens").
   */
  requireAuth?: boolean;
  /** Serve HTTPS and wss:// with this certificate chain and private key (PEM files). */
  tls?: { certFile: string; keyFile: string };
  /** Refuse to start bound beyond loopback without `tls`. */
  requireTls?: boolean;
  /** How long a member's lease lasts without a heartbeat (default 30 s). */
  leaseMs?: number;
  logger?: Logger;
  clock?: () => Date;
  /** Delay before a failed member is handed out again, doubled per failure (default 1 s). */
  retryBackoffMs?: number;
  /** How often expired leases are looked for (default leaseMs / 4, at most 5 s). */
  sweepIntervalMs?: number;
  /** How often buffered metrics are written (default 2 s). */
  metricsFlushMs?: number;
  /** How often dashboards are told of new metrics (default 500 ms, at most metricsFlushMs). */
  metricsNotifyMs?: number;
  /**
   * Straggler handover: an idle worker that is faster takes over a member from a slower one,
   * from a checkpoint taken on request (see services/handover.service.ts). On by default.
   */
  handover?: HandoverOptions | false;
  /**
   * The directories a run's `datasetPath` may point into (default: the data dir and the places
   * libs/data reads datasets from when no path is given). README "Security and limits".
   */
  datasetRoots?: readonly string[];
  /** The most bytes one dataset file may hold, decompressed (default 256 MiB). */
  datasetMaxBytes?: number;
  /** The most parameters one member of a run may have (default DEFAULT_MAX_MEMBER_PARAMS, 50 M). */
  maxMemberParams?: number;
  /** The largest dataset bundle `PUT /api/datasets/:sha256` stores (default 4 GiB). */
  uploadMaxBytes?: number;
  /** Offline workers that hold no member are forgotten after this long (default 7 days). */
  workerRetentionMs?: number;
  /** Per-worker message budgets (sockets/rate-limit.ts; default DEFAULT_RATE_LIMITS). */
  rateLimits?: RateLimits;
  /** How often such workers are looked for (default hourly, at most workerRetentionMs). */
  workerPruneIntervalMs?: number;
  /** Where the Prometheus metrics of GET /metrics are registered (default: a registry of its own). */
  metricsRegistry?: Registry;
}

export interface RunningCoordinator {
  /** Base URL, e.g. http://127.0.0.1:4000 (workers connect to its socket.io namespace `/workers`). */
  url: string;
  port: number;
  workerToken: string;
  adminToken: string;
  viewerToken: string;
  /** Whether reads need a token (bound beyond loopback, or requireAuth). */
  authRequired: boolean;
  /** Where the tokens are stored, when they were not all given. */
  tokensFile?: string;
  /** True when this start generated a token into tokensFile (the data dir's first start). */
  tokensGenerated: boolean;
  /** The Postgres it uses: DATABASE_URL, or the embedded server's loopback URL (for the dashboard). */
  databaseUrl: string;
  databaseKind: 'external' | 'embedded';
  /** Stops accepting, flushes metrics, closes sockets, Prisma and the embedded database. */
  close(): Promise<void>;
}

export const DEFAULT_LEASE_MS = 30_000;
export const DEFAULT_WORKER_RETENTION_MS = 7 * 24 * 3_600_000;
/** In the data dir while a coordinator on the embedded database runs (libs/protocol EmbeddedDatabaseFileSchema). */
export { EMBEDDED_DATABASE_FILE };

export async function startCoordinator(options: CoordinatorOptions = {}): Promise<RunningCoordinator> {
  const logger = options.logger ?? pino({ name: 'chorus-coordinator' });
  const clock = options.clock ?? systemClock;
  const host = options.host ?? '127.0.0.1';
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const dataDir = resolve(options.dataDir ?? '.chorus');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });

  const { tls, authRequired } = resolveTransportSecurity({
    host,
    tls: options.tls,
    requireTls: options.requireTls,
    requireAuth: options.requireAuth,
    logger,
  });
  const tokens = resolveTokens({
    dataDir,
    workerToken: options.workerToken,
    adminToken: options.adminToken,
    viewerToken: options.viewerToken,
  });
  if (tokens.tokensFile !== undefined) {
    logger.info(
      { tokensFile: tokens.tokensFile },
      tokens.generated
        ? `generated tokens, stored in ${tokens.tokensFile}`
        : `tokens read from ${tokens.tokensFile}`,
    );
  }

  const cleanups: Array<() => Promise<unknown>> = [];
  const cleanup = async (): Promise<void> => {
    for (const step of cleanups.splice(0).reverse()) {
      await step().catch((error: unknown) => logger.error({ err: error }, 'shutdown step failed'));
    }
  };

  try {
    const database: ResolvedDatabase = await resolveDatabase({
      databaseUrl: options.databaseUrl,
      dataDir: join(dataDir, 'pgdata'),
    });
    cleanups.push(() => database.close());
    logger.info(
      { database: database.kind },
      database.kind === 'embedded'
        ? `embedded database under ${join(dataDir, 'pgdata')}`
        : 'using DATABASE_URL',
    );
    if (database.kind === 'embedded') {
      // Lets `chorus dashboard --data-dir …` find the embedded server while this process runs.
      const file = join(dataDir, EMBEDDED_DATABASE_FILE);
      writeFileSync(
        file,
        JSON.stringify({
          connectionString: database.connectionString,
          pid: process.pid,
        } satisfies EmbeddedDatabaseFile) + '\n',
        {
          mode: 0o600,
        },
      );
      cleanups.push(async () => rmSync(file, { force: true }));
    }
    const migrations = await applyMigrations(database.connectionString, { log: (line) => logger.info(line) });
    if (migrations.applied.length > 0) logger.info({ applied: migrations.applied }, 'migrations applied');

    const telemetry = createCoordinatorTelemetry(options.metricsRegistry ?? new Registry());
    const prisma: PrismaClient = createPrismaClient({
      connectionString: database.connectionString,
      onQuery: (statement, seconds) => telemetry.databaseSeconds.observe({ statement }, seconds),
      onPoolError: (error) => logger.warn({ err: error }, 'database connection lost; reconnecting'),
    });
    cleanups.push(() => prisma.$disconnect());
    // Checkpoints and predictions (megabytes each) go to the database as binary parameters of a
    // small pg pool of their own rather than through Prisma (libs/db bytes-writer.ts).
    const bytes = createBytesWriter(database.connectionString, {
      onError: (error) => logger.warn({ err: error }, 'database connection lost; reconnecting'),
    });
    cleanups.push(() => bytes.close());
    const repos = createRepositories(prisma, { clock, bytes });
    // Nobody is connected yet: whoever was online before a restart is offline until it reconnects.
    await repos.workers.markSilentOffline(new Date(clock().getTime() + 1));

    const server: ChorusServer = await createServer({
      repos,
      logger,
      clock,
      dataDir,
      leaseMs,
      workerToken: tokens.workerToken,
      adminToken: tokens.adminToken,
      viewerToken: tokens.viewerToken,
      requireAuth: authRequired,
      ...(tls && { tls }),
      telemetry,
      ...(options.metricsFlushMs !== undefined && { metricsFlushMs: options.metricsFlushMs }),
      ...(options.metricsNotifyMs !== undefined && { metricsNotifyMs: options.metricsNotifyMs }),
      ...(options.handover !== undefined && { handover: options.handover }),
      ...(options.retryBackoffMs !== undefined && { retryBackoffMs: options.retryBackoffMs }),
      datasetLimits: {
        roots: (options.datasetRoots ?? [dataDir, ...builtInDatasetRoots()]).map((r) => resolve(r)),
        maxBytes: options.datasetMaxBytes ?? DEFAULT_DATASET_MAX_BYTES,
      },
      ...(options.maxMemberParams !== undefined && { maxMemberParams: options.maxMemberParams }),
      ...(options.rateLimits !== undefined && { rateLimits: options.rateLimits }),
      ...(options.uploadMaxBytes !== undefined && { uploadMaxBytes: options.uploadMaxBytes }),
    });
    cleanups.push(() => server.close());
    await server.app.listen({ host, port: options.port ?? 4000 }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EADDRINUSE' && error.code !== 'EADDRNOTAVAIL') throw error;
      throw new ChorusError(
        'unavailable',
        error.code === 'EADDRINUSE'
          ? `port ${options.port ?? 4000} on ${host} is already in use: stop the other process or pick another with --port`
          : `cannot bind ${host}: it is not an address of this machine (--host)`,
        { cause: error },
      );
    });
    const port = (server.app.server.address() as AddressInfo).port;

    // Leases of workers that vanished (also those from before a restart) return to the queue.
    let sweeping: Promise<unknown> | undefined;
    const sweepIntervalMs =
      options.sweepIntervalMs ?? Math.min(5_000, Math.max(100, Math.floor(leaseMs / 4)));
    const timer = setInterval(() => {
      sweeping ??= server.scheduler
        .sweep()
        .catch((error: unknown) => logger.error({ err: error }, 'lease sweep failed'))
        .finally(() => (sweeping = undefined));
    }, sweepIntervalMs);
    timer.unref();
    cleanups.push(async () => {
      clearInterval(timer);
      await sweeping;
    });

    // Worker rows: one per worker process ever started; the old offline ones go.
    const retentionMs = options.workerRetentionMs ?? DEFAULT_WORKER_RETENTION_MS;
    let pruning: Promise<unknown> | undefined;
    const prune = (): void => {
      pruning ??= repos.workers
        .pruneOffline(new Date(clock().getTime() - retentionMs))
        .then((count) => {
          if (count > 0) logger.info({ count, retentionMs }, `forgot ${count} long-offline workers`);
        })
        .catch((error: unknown) => logger.error({ err: error }, 'pruning offline workers failed'))
        .finally(() => (pruning = undefined));
    };
    prune();
    const pruneTimer = setInterval(prune, options.workerPruneIntervalMs ?? Math.min(3_600_000, retentionMs));
    pruneTimer.unref();
    cleanups.push(async () => {
      clearInterval(pruneTimer);
      await pruning;
    });

    const url = `${tls ? 'https' : 'http'}://${urlHost(host)}:${port}`;
    logger.info({ url, leaseMs, authRequired }, `coordinator listening on ${url}`);
    let closing: Promise<void> | undefined;
    return {
      url,
      port,
      workerToken: tokens.workerToken,
      adminToken: tokens.adminToken,
      viewerToken: tokens.viewerToken,
      authRequired,
      ...(tokens.tokensFile !== undefined && { tokensFile: tokens.tokensFile }),
      tokensGenerated: tokens.generated,
      databaseUrl: database.connectionString,
      databaseKind: database.kind,
      close: () => (closing ??= cleanup().then(() => logger.info('coordinator stopped'))),
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/** The host part of a URL clients on this machine can use. */
function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
