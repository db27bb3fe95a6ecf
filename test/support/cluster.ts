import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { createHttpClient, type HttpClient, type RunConfigInput, type RunDetail } from '@chorus/protocol';
import { expectEventually } from './eventually';
import { ChorusProcess, dumpProcessOutput, killAll } from './processes';

/**
 * A Chorus cluster made of real processes: `chorus coordinator` on a test database and
 * `chorus worker`s connected to it, plus the HTTP calls the tests make.
 */

export const WORKER_TOKEN = 'e2e-worker-token-0123456789abcdef';
export const ADMIN_TOKEN = 'e2e-admin-token-fedcba9876543210';

/**
 * Lease time of the test coordinators. The worker CLI renews its leases every 5 s (a fixed
 * heartbeat it does not derive from the coordinator's leaseMs), so a lease must be comfortably
 * longer than that, or healthy workers lose their members between two heartbeats.
 */
export const LEASE_MS = 10_000;

export interface CoordinatorProcess {
  process: ChorusProcess;
  url: string;
  port: number;
}

export interface CoordinatorSettings {
  databaseUrl: string;
  dataDir: string;
  /** 0 (default) for any free port; the port of a previous coordinator to restart on it. */
  port?: number;
  leaseMs?: number;
  label?: string;
  /**
   * Straggler handover (default off here: most tests pin each member's lease history, and a
   * handover, which depends on the workers' relative speeds, would add a lease).
   */
  handover?: boolean;
}

/** Starts `chorus coordinator` and waits until it prints its URL and answers /api/health. */
export async function startCoordinator(settings: CoordinatorSettings): Promise<CoordinatorProcess> {
  const proc = new ChorusProcess(
    settings.label ?? 'coordinator',
    [
      'coordinator',
      '--host',
      '127.0.0.1',
      '--port',
      String(settings.port ?? 0),
      '--data-dir',
      settings.dataDir,
    ],
    {
      DATABASE_URL: settings.databaseUrl,
      CHORUS_WORKER_TOKEN: WORKER_TOKEN,
      CHORUS_ADMIN_TOKEN: ADMIN_TOKEN,
      CHORUS_LEASE_MS: String(settings.leaseMs ?? LEASE_MS),
      CHORUS_HANDOVER: settings.handover === true ? 'on' : 'off',
      LOG_LEVEL: 'info',
    },
  );
  const match = await proc.waitForLine('stderr', /listening on (http:\/\/127\.0\.0\.1:(\d+))/, 60_000);
  const url = match[1] as string;
  const port = Number(match[2]);
  await expectEventually(
    async () => {
      await coordinatorApi(url).health();
    },
    30_000,
    { what: `${url}/api/health answers ok` },
  );
  return { process: proc, url, port };
}

export interface WorkerSettings {
  coordinatorUrl: string;
  name: string;
  cacheDir: string;
  token?: string;
  /** Members trained side by side (default 1). */
  slots?: number;
  /** Default `cpu`; `wasm` for the tests of large members (several times faster at matrix products). */
  backend?: 'cpu' | 'wasm';
}

/** Starts `chorus worker --backend cpu` (token in the environment, as documented). */
export function spawnWorker(settings: WorkerSettings): ChorusProcess {
  return new ChorusProcess(
    `worker ${settings.name}`,
    [
      'worker',
      '--coordinator',
      settings.coordinatorUrl,
      '--backend',
      settings.backend ?? 'cpu',
      '--name',
      settings.name,
      ...(settings.slots !== undefined ? ['--slots', String(settings.slots)] : []),
    ],
    {
      CHORUS_WORKER_TOKEN: settings.token ?? WORKER_TOKEN,
      CHORUS_CACHE_DIR: settings.cacheDir,
      LOG_LEVEL: 'info',
    },
  );
}

/** Starts a worker and waits until it has connected (and so is registered with the coordinator). */
export async function startWorker(settings: WorkerSettings): Promise<ChorusProcess> {
  const proc = spawnWorker(settings);
  await proc.waitForLine('stdout', /"msg":"connected to the coordinator"/, 60_000);
  return proc;
}

export async function tempDir(prefix: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** A test file's cluster (`withCluster`): filled in by its beforeAll. */
export interface Cluster {
  /** The coordinator process; a test that restarts it puts the new one here. */
  coordinator: CoordinatorProcess;
  /** The worker processes by name, in the order asked for. */
  workers: Map<string, ChorusProcess>;
  /** The coordinator's data dir. */
  dataDir: string;
  /** A temporary directory removed when the file's tests are over. */
  tempDir(prefix: string): Promise<{ path: string; remove: () => Promise<void> }>;
}

/**
 * For the tests of one file: a coordinator process on `db` with a temporary data dir, and the
 * named workers connected to it, each with a cache dir of its own. Every process's output is
 * printed when a test fails; everything is killed and removed after the file's tests.
 */
export function withCluster(
  db: { readonly connectionString: string },
  options: {
    workers: ReadonlyArray<string | { name: string; slots?: number; backend?: 'cpu' | 'wasm' }>;
    handover?: boolean;
    /** The coordinator's lease (default LEASE_MS). */
    leaseMs?: number;
  },
): Cluster {
  const dirs: Array<{ remove: () => Promise<void> }> = [];
  const keep = async (prefix: string) => {
    const dir = await tempDir(prefix);
    dirs.push(dir);
    return dir;
  };
  const cluster = { workers: new Map(), tempDir: keep } as unknown as Cluster;
  beforeAll(async () => {
    cluster.dataDir = (await keep('chorus-e2e-data-')).path;
    cluster.coordinator = await startCoordinator({
      databaseUrl: db.connectionString,
      dataDir: cluster.dataDir,
      ...(options.handover !== undefined && { handover: options.handover }),
      ...(options.leaseMs !== undefined && { leaseMs: options.leaseMs }),
    });
    const specs = options.workers.map((w) => (typeof w === 'string' ? { name: w } : w));
    const started = await Promise.all(
      specs.map(async ({ name, slots, backend }) =>
        startWorker({
          coordinatorUrl: cluster.coordinator.url,
          name,
          cacheDir: (await keep(`chorus-e2e-cache-${name}-`)).path,
          ...(slots !== undefined && { slots }),
          ...(backend !== undefined && { backend }),
        }),
      ),
    );
    specs.forEach(({ name }, i) => cluster.workers.set(name, started[i] as ChorusProcess));
  });
  beforeEach((ctx) => {
    ctx.onTestFailed(() => console.error(dumpProcessOutput()));
  });
  afterAll(async () => {
    await killAll();
    for (const dir of dirs) await dir.remove();
  });
  return cluster;
}

// --- HTTP -------------------------------------------------------------------------------------

/** libs/protocol's typed HTTP client on a coordinator, sending `token` to the routes that need one. */
export function coordinatorApi(baseUrl: string, token?: string): HttpClient {
  return createHttpClient({ baseUrl, ...(token !== undefined && { token }) });
}

/** GET /api/runs/:id as the coordinator answers it. */
export type RunView = RunDetail;

/** Launches a run with the admin token; its id (the client checks it is created: 201). */
export async function launchRun(baseUrl: string, config: RunConfigInput): Promise<string> {
  return (await coordinatorApi(baseUrl, ADMIN_TOKEN).createRun({ body: config })).id;
}

/** `token`: for a coordinator whose reads need one (bound beyond loopback, or --require-auth). */
export function getRun(baseUrl: string, runId: string, token?: string): Promise<RunView> {
  return coordinatorApi(baseUrl, token).getRun({ params: { id: runId } });
}

/** Waits until the run is completed, failed or cancelled; returns its final view. */
export async function waitForRunEnd(
  baseUrl: () => string,
  runId: string,
  timeoutMs: number,
  token?: string,
): Promise<RunView> {
  return expectEventually(
    async () => {
      const run = await getRun(baseUrl(), runId, token);
      if (!['completed', 'failed', 'cancelled'].includes(run.status)) {
        throw new Error(
          `run ${runId} is ${run.status}: ${run.members
            .map((m) => `#${m.index} ${m.status} attempt ${m.attempt} step ${m.step}/${m.totalBatches}`)
            .join(', ')}`,
        );
      }
      return run;
    },
    timeoutMs,
    { intervalMs: 250, what: `run ${runId} ends` },
  );
}
