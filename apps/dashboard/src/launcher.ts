import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { hashBuildInputs } from './build-inputs';

/**
 * Starts the dashboard as a Next.js production server in a child process (node side; not part
 * of the Next bundle). The app is built on first use, and again whenever its sources — or those
 * of the libs it imports — change: the build records a hash of them (dashboardSourceHash).
 */

export const DASHBOARD_DIR = fileURLToPath(new URL('..', import.meta.url));
const REPO_ROOT = resolve(DASHBOARD_DIR, '../..');
const BUILD_STAMP = 'chorus-build.json';
/** What the stamp holds: the hash of the build's inputs (build-inputs.ts) and when it was built. */
const BuildStampSchema = z.object({ hash: z.string(), builtAt: z.string() });

export interface DashboardOptions {
  /** Postgres the coordinator uses (the dashboard reads it directly). */
  databaseUrl: string;
  /**
   * The coordinator's `embedded-database.json` when databaseUrl is its embedded database: the server
   * follows it across coordinator restarts (server/database-source.ts).
   */
  embeddedDatabaseFile?: string;
  /** The coordinator as this machine reaches it (control actions are forwarded there). */
  coordinatorUrl: string;
  /** The coordinator as browsers reach it (socket.io); default coordinatorUrl. */
  publicCoordinatorUrl?: string;
  /**
   * The coordinator's viewer token: the server reads with it and signs the browsers' socket
   * tickets (never sent to a browser). Needed when the coordinator requires auth.
   */
  viewerToken?: string;
  /** A PEM file of the private CA that signed the coordinator's certificate (NODE_EXTRA_CA_CERTS of the server). */
  caFile?: string;
  host?: string;
  /** Default 3000; 0 picks a free port. */
  port?: number;
  /** Build folder inside apps/dashboard (default `.next`). */
  distDir?: string;
  /** Progress lines ("building the dashboard…"); default: none. */
  log?: (line: string) => void;
  /** Where the server's own output goes (default: discarded unless it fails to start). */
  onOutput?: (chunk: string) => void;
}

export interface RunningDashboard {
  url: string;
  port: number;
  /** Whether this start had to build the app first (and how long it took). */
  built: { seconds: number } | null;
  close(): Promise<void>;
}

export class DashboardError extends Error {
  override name = 'DashboardError';
}

/**
 * A hash of everything that goes into the build: the app's sources and config, and the sources of
 * the workspace packages it imports (found by reading the imports: build-inputs.ts).
 */
export function dashboardSourceHash(): string {
  return hashBuildInputs({ root: REPO_ROOT, appDir: DASHBOARD_DIR });
}

function nextBin(): string {
  return createRequire(join(DASHBOARD_DIR, 'package.json')).resolve('next/dist/bin/next');
}

/** Builds the app into `distDir` unless a build of the same sources is there; returns the build time or null. */
export async function ensureDashboardBuild(
  options: { distDir?: string; log?: (line: string) => void } = {},
): Promise<{ seconds: number } | null> {
  const distDir = options.distDir ?? '.next';
  const stampPath = join(DASHBOARD_DIR, distDir, BUILD_STAMP);
  const hash = dashboardSourceHash();
  const upToDate = () => {
    if (!existsSync(join(DASHBOARD_DIR, distDir, 'BUILD_ID')) || !existsSync(stampPath)) return false;
    // A stamp this launcher did not write (or an older one) is not up to date: build again.
    return BuildStampSchema.safeParse(JSON.parse(readFileSync(stampPath, 'utf8'))).data?.hash === hash;
  };
  if (upToDate()) return null;
  // Two starts at once (npm start and chorus dashboard, or two test files) must not build into one folder together.
  const unlock = await lockBuild(join(DASHBOARD_DIR, `${distDir}.build.lock`), options.log);
  try {
    if (upToDate()) return null;
    return await build(distDir, stampPath, hash, options.log);
  } finally {
    unlock();
  }
}

async function build(
  distDir: string,
  stampPath: string,
  hash: string,
  log: ((line: string) => void) | undefined,
): Promise<{ seconds: number }> {
  const options = { log };
  options.log?.('building the dashboard (first start, or its sources changed; about a minute)…');
  const started = performance.now();
  const output: string[] = [];
  const code = await new Promise<number | null>((resolvePromise, reject) => {
    const child = spawn(process.execPath, [nextBin(), 'build'], {
      cwd: DASHBOARD_DIR,
      env: { ...childEnv(), CHORUS_DASHBOARD_DIST_DIR: distDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => {
      output.push(chunk.toString());
      if (output.length > 200) output.shift();
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('error', reject);
    child.once('exit', resolvePromise);
  });
  if (code !== 0) {
    throw new DashboardError(
      `building the dashboard failed (next build exited with ${code}):\n${output.join('').slice(-4000)}`,
    );
  }
  const stamp: z.input<typeof BuildStampSchema> = { hash, builtAt: new Date().toISOString() };
  writeFileSync(stampPath, JSON.stringify(stamp) + '\n');
  const seconds = (performance.now() - started) / 1000;
  options.log?.(`dashboard built in ${seconds.toFixed(1)} s`);
  return { seconds };
}

/** Takes the build lock (a file holding the builder's pid); waits while a live process holds it. */
async function lockBuild(path: string, log: ((line: string) => void) | undefined): Promise<() => void> {
  const deadline = Date.now() + 15 * 60_000;
  let told = false;
  for (;;) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number(readFileSync(path, 'utf8').trim());
    if (!isAlive(holder)) {
      rmSync(path, { force: true }); // left by a build that died
      continue;
    }
    if (Date.now() > deadline)
      throw new DashboardError(
        `another process (pid ${holder}) has been building the dashboard for 15 minutes: ${path}`,
      );
    if (!told) log?.(`waiting for another process (pid ${holder}) that is building the dashboard…`);
    told = true;
    await new Promise((r) => setTimeout(r, 500));
  }
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Builds if needed, starts `next start`, and resolves once the dashboard answers its health check. */
export async function startDashboard(options: DashboardOptions): Promise<RunningDashboard> {
  const host = options.host ?? '127.0.0.1';
  const distDir = options.distDir ?? '.next';
  const built = await ensureDashboardBuild({ distDir, ...(options.log && { log: options.log }) });
  const port =
    options.port === 0 || options.port === undefined
      ? await freePort(host, options.port ?? 3000)
      : options.port;
  await assertPortFree(host, port);

  const output: string[] = [];
  const child: ChildProcess = spawn(process.execPath, [nextBin(), 'start', '-p', String(port), '-H', host], {
    cwd: DASHBOARD_DIR,
    env: {
      ...childEnv(),
      CHORUS_DASHBOARD_DIST_DIR: distDir,
      DATABASE_URL: options.databaseUrl,
      ...(options.embeddedDatabaseFile !== undefined && {
        CHORUS_EMBEDDED_DATABASE_FILE: resolve(options.embeddedDatabaseFile),
      }),
      CHORUS_COORDINATOR_URL: options.coordinatorUrl,
      CHORUS_PUBLIC_COORDINATOR_URL: options.publicCoordinatorUrl ?? options.coordinatorUrl,
      ...(options.viewerToken !== undefined && { CHORUS_VIEWER_TOKEN: options.viewerToken }),
      // Node's fetch trusts these besides the system's CAs; read when the process starts.
      ...(options.caFile !== undefined && { NODE_EXTRA_CA_CERTS: resolve(options.caFile) }),
      NODE_ENV: 'production',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const onChunk = (chunk: Buffer) => {
    const text = chunk.toString();
    options.onOutput?.(text);
    output.push(text);
    if (output.length > 200) output.shift();
  };
  child.stdout?.on('data', onChunk);
  child.stderr?.on('data', onChunk);
  const exited = new Promise<number | null>((r) => child.once('exit', r));

  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
  };

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new DashboardError(
        `the dashboard server exited during start-up:\n${output.join('').slice(-4000)}`,
      );
    }
    const health = await fetch(`${url}/api/health`).then(
      (r) => r.status,
      () => 0,
    );
    if (health === 200) break;
    if (Date.now() > deadline) {
      await close();
      throw new DashboardError(
        `the dashboard did not become healthy within 60 s (last status ${health || 'no answer'}):\n${output.join('').slice(-4000)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, port, built, close };
}

/** The environment for the Next processes: this one's, without a parent NODE_OPTIONS loader (tsx). */
function childEnv(): NodeJS.ProcessEnv {
  // eslint-disable-next-line no-restricted-properties -- passes the caller's environment through to the child
  const env: NodeJS.ProcessEnv = { ...process.env, NEXT_TELEMETRY_DISABLED: '1' };
  delete env.NODE_OPTIONS;
  return env;
}

function freePort(host: string, preferred: number): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (preferred !== 0 && error.code === 'EADDRINUSE') resolvePort(freePort(host, 0));
      else reject(error);
    });
    server.listen(preferred, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : preferred;
      server.close(() => resolvePort(port));
    });
  });
}

function assertPortFree(host: string, port: number): Promise<void> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) =>
      fail(
        new DashboardError(
          error.code === 'EADDRINUSE'
            ? `port ${port} on ${host} is already in use: stop the other process or pick another with --dashboard-port/--port`
            : `cannot listen on ${host}:${port}: ${error.message}`,
        ),
      ),
    );
    server.listen(port, host, () => server.close(() => ok()));
  });
}
