/**
 * Child processes of the cluster bench: a coordinator (`chorus coordinator`), training workers
 * (`chorus worker`) and the in-process trainer (`chorus train --json`), all started through
 * bin/chorus.mjs exactly as a user would, plus the coordinator's HTTP API and a `/dashboard`
 * socket that tells when runs finish. Loopback only; every process is stopped by its own handle.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { io, type Socket } from 'socket.io-client';
import {
  CoordinatorToDashboardCatalog,
  createHttpClient,
  DASHBOARD_NAMESPACE,
  DashboardToCoordinatorCatalog,
  handleEvent,
  requestEvent,
  RunResultSchema,
  type HttpClient,
  type CoordinatorToDashboardEvents,
  type DashboardToCoordinatorEvents,
  type RunConfigInput,
  type RunNotification,
  type RunResult,
} from '@chorus/protocol';

export const CLI_ENTRY = fileURLToPath(new URL('../../bin/chorus.mjs', import.meta.url));

const now = (): number => performance.now();

/** Resolves when the child exits (at once if it already has). */
export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the child is gone. */
export async function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited(child);
  clearTimeout(timer);
}

/** Pino JSON lines at warn level or above that a child wrote (its stdout), kept for the report. */
export class LogTap {
  readonly lines: { level: number; msg: string; source: string }[] = [];
  private partial = new Map<string, string>();

  attach(source: string, stream: NodeJS.ReadableStream | null): void {
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      const text = (this.partial.get(source) ?? '') + chunk;
      const parts = text.split('\n');
      this.partial.set(source, parts.pop() ?? '');
      for (const line of parts) this.take(source, line);
    });
  }

  private take(source: string, line: string): void {
    if (!line.startsWith('{')) return;
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string; event?: string; code?: string };
      if ((entry.level ?? 0) >= 40) {
        const detail = [entry.event, entry.code].filter(Boolean).join(' ');
        this.lines.push({
          level: entry.level ?? 0,
          msg: `${entry.msg ?? '?'}${detail ? ` (${detail})` : ''}`,
          source,
        });
      }
    } catch {
      // not a log line
    }
  }

  /** Distinct messages with their counts, worst first. */
  summary(since = 0): string[] {
    const counts = new Map<string, number>();
    for (const l of this.lines.slice(since)) {
      const key = `${l.level >= 50 ? 'error' : 'warn'} ${l.source}: ${l.msg}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return [...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${n} × ${k}`);
  }
}

export interface CoordinatorProcess {
  url: string;
  pid: number;
  workerToken: string;
  adminToken: string;
  database: string;
  startupSeconds: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * `node bin/chorus.mjs coordinator --port 0 --data-dir <dataDir>` with fresh tokens, on `database`
 * (default: this process's DATABASE_URL when set), else on the embedded PGlite under the data dir.
 */
export async function startCoordinatorProcess(
  dataDir: string,
  logs: LogTap,
  database: { url: string; label: string } | undefined = process.env.DATABASE_URL
    ? { url: process.env.DATABASE_URL, label: 'DATABASE_URL (Postgres server)' }
    : undefined,
  /** Extra node flags for the coordinator (e.g. --cpu-prof). */
  nodeArgs: readonly string[] = [],
): Promise<CoordinatorProcess> {
  const workerToken = randomBytes(24).toString('hex');
  const adminToken = randomBytes(24).toString('hex');
  const started = now();
  const child = spawn(
    process.execPath,
    [...nodeArgs, CLI_ENTRY, 'coordinator', '--port', '0', '--data-dir', dataDir],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        DATABASE_URL: database?.url ?? '',
        CHORUS_WORKER_TOKEN: workerToken,
        CHORUS_ADMIN_TOKEN: adminToken,
        CHORUS_HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
      },
    },
  );
  logs.attach('coordinator', child.stdout);
  let stderr = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the coordinator did not start in 120 s:\n${stderr}`)),
      120_000,
    );
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      stderr += chunk;
      const match = /listening on (http:\/\/\S+?) /.exec(stderr);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the coordinator exited (${code}) before listening:\n${stderr}`));
    });
  });
  return {
    url,
    pid: child.pid ?? -1,
    workerToken,
    adminToken,
    database: database?.label ?? 'embedded PGlite in the data dir',
    startupSeconds: (now() - started) / 1000,
    child,
    stop: () => stopChild(child, 20_000),
  };
}

/** `node bin/chorus.mjs worker …` processes, the token in the environment as `chorus demo` does. */
export function spawnWorkers(
  coordinator: CoordinatorProcess,
  count: number,
  options: { cacheDir: string; backend: string; namePrefix: string },
  logs: LogTap,
): ChildProcess[] {
  return Array.from({ length: count }, (_, i) => {
    const name = `${options.namePrefix}-${i}`;
    const child = spawn(
      process.execPath,
      [
        CLI_ENTRY,
        'worker',
        '--coordinator',
        coordinator.url,
        '--name',
        name,
        '--backend',
        options.backend,
        '--cache-dir',
        options.cacheDir,
        '--log-level',
        'warn',
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, CHORUS_WORKER_TOKEN: coordinator.workerToken },
      },
    );
    logs.attach(name, child.stdout);
    child.stderr?.resume();
    return child;
  });
}

/** The run-config flags of `chorus train`. */
export function trainFlags(cfg: RunConfigInput): string[] {
  const flags: string[] = [];
  const add = (name: string, value: unknown) => {
    if (value !== undefined) flags.push(`--${name}`, String(value));
  };
  add('dataset', cfg.dataset);
  add('dataset-path', cfg.datasetPath);
  add('model', cfg.model);
  add('members', cfg.members);
  add('sharding', cfg.sharding);
  add('epochs', cfg.epochs);
  add('batch-size', cfg.batchSize);
  add('seed', cfg.seed);
  add('train-limit', cfg.trainLimit);
  return flags;
}

export interface TrainChildResult {
  result: RunResult;
  /** Spawn → JSON result on stdout. */
  wallSeconds: number;
  /** Spawn → the "chorus train: …" line (backend chosen, dataset loaded, about to train). */
  readySeconds: number;
  /** What the command reports itself: trainEnsembleLocally from backend selection to result. */
  selfSeconds: number;
  /** CPU seconds (user + system) of the whole child process. */
  cpuSeconds: number;
  backend: string;
}

/** `node bin/chorus.mjs train --json …` as a child process, timed from spawn to its result line. */
export async function runTrainChild(cfg: RunConfigInput, backend: string): Promise<TrainChildResult> {
  const started = now();
  const cpu0 = reapedChildrenCpuSeconds();
  let readyAt = Number.NaN;
  const child = spawn(
    process.execPath,
    [CLI_ENTRY, 'train', '--json', '--backend', backend, ...trainFlags(cfg)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    if (Number.isNaN(readyAt) && (stderr + chunk).includes('chorus train:')) readyAt = now();
    stderr += chunk;
  });
  const resultAt = new Promise<number>((resolve) => {
    child.stdout?.on('data', (chunk: string) => {
      stdout += chunk;
      if (stdout.includes('\n')) resolve(now());
    });
    child.once('exit', () => resolve(now()));
  });
  const code = await exited(child);
  const ended = await resultAt;
  const line = stdout.trim().split('\n').pop() ?? '';
  if (code !== 0 || !line.startsWith('{')) {
    throw new Error(`chorus train failed (exit ${code}):\n${stderr.slice(-2000)}`);
  }
  const parsed = JSON.parse(line) as RunResult & { backend: string; device: string; seconds: number };
  return {
    result: RunResultSchema.parse(parsed),
    wallSeconds: (ended - started) / 1000,
    readySeconds: (readyAt - started) / 1000,
    selfSeconds: parsed.seconds,
    cpuSeconds: reapedChildrenCpuSeconds() - cpu0,
    backend: `${parsed.backend} (${parsed.device})`,
  };
}

/** libs/protocol's typed HTTP client on the coordinator, with its admin token (errors throw with their code). */
export function coordinatorApi(coordinator: CoordinatorProcess): HttpClient {
  return createHttpClient({ baseUrl: coordinator.url, token: coordinator.adminToken });
}

type DashboardSocket = Socket<CoordinatorToDashboardEvents, DashboardToCoordinatorEvents>;

interface Watch {
  firstLeaseAt?: number;
  /** Member and evaluation notifications as they came (for --timeline). */
  events: { at: number; text: string }[];
  evaluations: number;
  /** Rounds whose `evaluation` notification said `complete` (every member's predictions in). */
  completeRounds: Set<number>;
  done?: { status: string; at: number };
  waiters: ((w: Watch) => void)[];
}

/**
 * A read-only `/dashboard` connection: run completion and first lease are taken from the
 * coordinator's notifications the moment they are emitted (no polling load on the coordinator).
 */
export class RunWatcher {
  private readonly socket: DashboardSocket;
  private readonly watches = new Map<string, Watch>();

  private constructor(socket: DashboardSocket) {
    this.socket = socket;
    handleEvent(socket, CoordinatorToDashboardCatalog, 'run:changed', (n: RunNotification) => {
      const w = this.watch(n.runId);
      if (
        n.kind === 'member' &&
        'status' in n.data &&
        n.data.status === 'leased' &&
        w.firstLeaseAt === undefined
      )
        w.firstLeaseAt = now();
      if (n.kind === 'evaluation') {
        w.evaluations++;
        if (n.data.complete) w.completeRounds.add(n.data.round);
      }
      if (n.kind === 'member' || n.kind === 'evaluation' || n.kind === 'status') {
        w.events.push({ at: now(), text: `${n.kind} ${JSON.stringify(n.data)}` });
      }
      if (n.kind === 'status' && n.data.status !== 'running' && n.data.status !== 'pending') {
        w.done ??= { status: n.data.status, at: now() };
      }
      for (const wake of w.waiters.splice(0)) wake(w);
    });
  }

  static async connect(coordinator: CoordinatorProcess): Promise<RunWatcher> {
    const socket: DashboardSocket = io(`${coordinator.url}${DASHBOARD_NAMESPACE}`, {
      transports: ['websocket'],
      forceNew: true,
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    return new RunWatcher(socket);
  }

  private watch(runId: string): Watch {
    let w = this.watches.get(runId);
    if (!w) {
      w = { evaluations: 0, completeRounds: new Set(), waiters: [], events: [] };
      this.watches.set(runId, w);
    }
    return w;
  }

  async join(runId: string): Promise<void> {
    this.watch(runId);
    const ack = await requestEvent(
      this.socket,
      DashboardToCoordinatorCatalog,
      'run:join',
      { runId },
      { timeoutMs: 10_000 },
    );
    if (!ack.ok) throw new Error(`run:join ${runId}: ${ack.code} ${ack.message}`);
  }

  state(runId: string): Readonly<Watch> {
    return this.watch(runId);
  }

  /** Resolves when `test` holds for the run's notifications, or with false after `timeoutMs`. */
  until(runId: string, test: (w: Watch) => boolean, timeoutMs: number): Promise<boolean> {
    const w = this.watch(runId);
    if (test(w)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      const check = (x: Watch) => {
        if (test(x)) {
          clearTimeout(timer);
          resolve(true);
        } else x.waiters.push(check);
      };
      w.waiters.push(check);
    });
  }

  close(): void {
    this.socket.close();
  }
}

/** Launches a run and waits for its end; times are performance.now() milliseconds. */
export async function launchAndWait(
  coordinator: CoordinatorProcess,
  watcher: RunWatcher,
  cfg: RunConfigInput,
  timeoutMs: number,
): Promise<{
  runId: string;
  result: RunResult;
  doneAt: number;
  firstLeaseAt: number | undefined;
  /** How long POST /api/runs took to answer. */
  postSeconds: number;
  events: readonly { at: number; text: string }[];
  /** Members leased more than once: handed over to a faster worker (nothing fails in the bench). */
  handovers: number;
}> {
  const posted = now();
  const { id } = await coordinatorApi(coordinator).createRun({ body: cfg });
  const postSeconds = (now() - posted) / 1000;
  await watcher.join(id);
  // The run cannot end before the join in practice; the fallback poll covers it anyway.
  const poll = setInterval(() => {
    void coordinatorApi(coordinator)
      .getRun({ params: { id } })
      .then(
        (run) => {
          if (run.status === 'completed' || run.status === 'failed' || run.status === 'cancelled') {
            const w = watcher.state(id) as Watch;
            w.done ??= { status: run.status, at: now() };
            for (const wake of w.waiters.splice(0)) wake(w);
          }
        },
        () => undefined,
      );
  }, 5_000);
  try {
    const ended = await watcher.until(id, (w) => w.done !== undefined, timeoutMs);
    const w = watcher.state(id);
    if (!ended || !w.done) throw new Error(`run ${id} did not finish in ${timeoutMs / 1000} s`);
    const run = await coordinatorApi(coordinator).getRun({ params: { id } });
    if (run.status !== 'completed') throw new Error(`run ${id} ${run.status}: ${run.error ?? ''}`);
    return {
      runId: id,
      result: RunResultSchema.parse(run.result),
      doneAt: w.done.at,
      firstLeaseAt: w.firstLeaseAt,
      postSeconds,
      events: w.events,
      handovers: run.members.filter((m) => m.attempt > 1).length,
    };
  } finally {
    clearInterval(poll);
  }
}

/** Fields of /proc/<pid>/stat after the command name; [] where unreadable (not Linux). */
function procStat(pid: number | 'self'): string[] {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return [];
  }
}

// Clock ticks per second of /proc/<pid>/stat: 100 on Linux.
const TICKS = 100;

/** CPU seconds (user + system) a live process has used so far, from /proc; NaN where unreadable. */
export function cpuSecondsOf(pid: number): number {
  const f = procStat(pid);
  // f[11] = utime, f[12] = stime
  return f.length > 12 ? (Number(f[11]) + Number(f[12])) / TICKS : Number.NaN;
}

/**
 * CPU seconds of this process's children that have exited and been reaped (cutime + cstime): the
 * difference across one child's life is that child's CPU time (no other child exits meanwhile).
 */
export function reapedChildrenCpuSeconds(): number {
  const f = procStat('self');
  return f.length > 14 ? (Number(f[13]) + Number(f[14])) / TICKS : Number.NaN;
}

const SIMD_PROBE = fileURLToPath(new URL('./simd-probe.ts', import.meta.url));

/**
 * Each CPU's wasm matMul speed in GFLOP/s (bench/support/simd-probe.ts pinned to it with
 * `taskset`, one CPU after the other), or null where `taskset` is missing.
 */
export async function probeCpuSpeeds(cpuCount: number, seconds = 1.5): Promise<number[] | null> {
  const speeds: number[] = [];
  for (let cpu = 0; cpu < cpuCount; cpu++) {
    const child = spawn(
      'taskset',
      ['-c', String(cpu), process.execPath, '--import', 'tsx', SIMD_PROBE, String(seconds)],
      {
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    let out = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => (out += chunk));
    const failed = new Promise<null>((resolve) => child.once('error', () => resolve(null)));
    const code = await Promise.race([exited(child), failed]);
    if (code !== 0) return null;
    speeds.push((JSON.parse(out.trim().split('\n').pop() ?? '{}') as { gflops: number }).gflops);
  }
  return speeds;
}
