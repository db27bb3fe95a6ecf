import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { ChorusError, EMBEDDED_DATABASE_FILE, EmbeddedDatabaseFileSchema } from '@chorus/protocol';
import { DEFAULT_COORDINATOR_URL, DEFAULT_DASHBOARD_PORT } from '../coordinator-options';
import { parseEnv } from '../env';
import { DEFAULT_DATA_DIR, readTokensFile } from '../tokens-file';

interface DashboardFlags {
  host: string;
  port: string;
  coordinator?: string;
  publicCoordinator?: string;
  dataDir?: string;
  ca?: string;
}

/**
 * `chorus dashboard`: the Next.js dashboard on its own, pointed at a coordinator and at the
 * Postgres it uses — DATABASE_URL, or the embedded database of a coordinator running on this
 * machine with the same --data-dir.
 */
export function registerDashboardCommand(program: Command): void {
  program
    .command('dashboard')
    .description('start the web dashboard (built on first start) for a coordinator and its database')
    .option('--host <host>', 'interface to bind', '127.0.0.1')
    .option('--port <port>', 'port to listen on', String(DEFAULT_DASHBOARD_PORT))
    .option(
      '--coordinator <url>',
      `coordinator URL (env CHORUS_COORDINATOR_URL; default ${DEFAULT_COORDINATOR_URL})`,
    )
    .option('--public-coordinator <url>', 'coordinator URL as browsers reach it, if different (socket.io)')
    .option(
      '--data-dir <dir>',
      "a local coordinator's data dir, to find its embedded database and its tokens.json (viewer token) (default .chorus)",
    )
    .option(
      '--ca <file>',
      "PEM certificate of a private CA that signed the coordinator's TLS certificate (env CHORUS_CA)",
    )
    .action(async (flags: DashboardFlags) => {
      const env = parseEnv();
      const port = parsePort(flags.port, '--port');
      const database = env.DATABASE_URL
        ? { databaseUrl: env.DATABASE_URL }
        : embeddedDatabase(flags.dataDir ?? env.CHORUS_DATA_DIR ?? '.chorus');
      const coordinatorUrl = flags.coordinator ?? env.CHORUS_COORDINATOR_URL ?? DEFAULT_COORDINATOR_URL;
      // The viewer token stays on the dashboard server: browsers get short-lived socket tickets.
      const viewerToken =
        env.CHORUS_VIEWER_TOKEN ??
        (await readTokensFile(flags.dataDir ?? env.CHORUS_DATA_DIR ?? DEFAULT_DATA_DIR))?.viewerToken;
      const caFile = flags.ca ?? env.CHORUS_CA;
      const log = (line: string) => process.stderr.write(`chorus dashboard: ${line}\n`);
      const { startDashboard, DashboardError } = await import('@chorus/dashboard');
      const dashboard = await startDashboard({
        ...database,
        coordinatorUrl,
        ...(flags.publicCoordinator !== undefined && { publicCoordinatorUrl: flags.publicCoordinator }),
        ...(viewerToken !== undefined && { viewerToken }),
        ...(caFile !== undefined && { caFile }),
        host: flags.host,
        port,
        log,
      }).catch((error: unknown) => {
        throw error instanceof DashboardError ? new ChorusError('unavailable', error.message) : error;
      });
      log(`serving on ${dashboard.url} (coordinator ${coordinatorUrl}) — Ctrl-C to stop`);
      const stop = () => void dashboard.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}

export function parsePort(value: string, flag: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ChorusError('invalid-input', `${flag} must be a port number, got ${value}`);
  }
  return port;
}

/**
 * The embedded database of a coordinator running with this data dir (it writes the file while it
 * runs); the dashboard server follows the file across coordinator restarts.
 */
function embeddedDatabase(dataDir: string): { databaseUrl: string; embeddedDatabaseFile: string } {
  const file = join(dataDir, EMBEDDED_DATABASE_FILE);
  const missing = new ChorusError(
    'unavailable',
    `no database: set DATABASE_URL to the coordinator's Postgres, or start \`chorus coordinator --data-dir ${dataDir}\` on this machine first (it writes ${file})`,
  );
  if (!existsSync(file)) throw missing;
  const parsed = EmbeddedDatabaseFileSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw missing;
  try {
    process.kill(parsed.data.pid, 0);
  } catch {
    throw missing;
  }
  return { databaseUrl: parsed.data.connectionString, embeddedDatabaseFile: file };
}
