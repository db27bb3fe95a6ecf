import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import type { RunningDashboard } from '@chorus/dashboard';
import { ChorusError, createHttpClient, modelLabel } from '@chorus/protocol';
import { colorEnabled, createLogger, resolveLogFormat } from '@chorus/terminal';
import { followAndPrintRun, launchRun } from '../coordinator-client';
import { DEFAULT_DASHBOARD_PORT, runPageUrl } from '../coordinator-options';
import { childProcessEnv, parseEnv, readColorEnv } from '../env';
import { runConfigFromFlags } from '../run-config-options';
import { plural } from '../wording';
import { parsePort } from './dashboard';

interface DemoFlags {
  port: string;
  dashboardPort: string;
  dashboard: boolean;
  workers?: string;
  dataDir?: string;
  config?: string;
  exitWhenDone?: boolean;
  json?: boolean;
  requireAuth?: boolean;
}

const CLI_ENTRY = fileURLToPath(new URL('../../../../bin/chorus.mjs', import.meta.url));

/**
 * `chorus demo` (= `npm start`): the whole stack on one machine — the coordinator on the embedded
 * Postgres (or DATABASE_URL), one local worker process per core, and a default MNIST run
 * (5 `mlp` members, round-robin mini-batches) — with the run's progress and final table.
 */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('start the coordinator, local workers and a default MNIST run (5 mlp members, round-robin)')
    .option('--port <port>', 'coordinator port', '4000')
    .option('--dashboard-port <port>', 'dashboard port (0 = any free one)', String(DEFAULT_DASHBOARD_PORT))
    .option('--no-dashboard', 'do not start the web dashboard')
    .option('--workers <n>', 'local worker processes (default: one per core)')
    .option('--data-dir <dir>', 'tokens, dataset bundles and the embedded database (default .chorus)')
    .option('--config <file>', 'run config JSON instead of the default MNIST run')
    .option('--exit-when-done', 'stop everything once the run has finished')
    .option('--require-auth', 'reads need the viewer token too, as beyond loopback (the dashboard gets it)')
    .option('--json', 'print the result as JSON (with "runId") instead of tables')
    .action(async (flags: DemoFlags) => {
      const env = parseEnv();
      const workers = flags.workers ? Number(flags.workers) : availableParallelism();
      if (!Number.isInteger(workers) || workers < 1 || workers > 64) {
        throw new ChorusError(
          'invalid-input',
          `--workers must be an integer from 1 to 64, got ${flags.workers}`,
        );
      }
      const port = parsePort(flags.port, '--port');
      const dashboardPort = parsePort(flags.dashboardPort, '--dashboard-port');
      const cfg = await runConfigFromFlags(flags.config ? { config: flags.config } : {});
      const log = (line: string) => process.stderr.write(`${line}\n`);
      const dataDir = flags.dataDir ?? env.CHORUS_DATA_DIR ?? '.chorus';

      const { startCoordinator } = await import('@chorus/coordinator');
      const coordinator = await startCoordinator({
        host: '127.0.0.1',
        port,
        dataDir,
        ...(flags.requireAuth && { requireAuth: true }),
        ...(env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL } : {}),
        // The demo's own output is the progress view; the service logs only what goes wrong.
        logger: createLogger({
          name: 'chorus-coordinator',
          level: 'warn',
          format: resolveLogFormat(undefined, process.stderr),
          stream: process.stderr,
          color: colorEnabled(process.stderr, readColorEnv()),
        }),
      });
      log(
        `chorus demo: coordinator on ${coordinator.url} (${env.DATABASE_URL ? 'DATABASE_URL' : `embedded Postgres in ${dataDir}`})`,
      );

      const children: ChildProcess[] = [];
      let dashboard: RunningDashboard | undefined;
      const stopAll = async () => {
        for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
        await Promise.all(
          children.map((c) => (c.exitCode === null ? new Promise((r) => c.once('exit', r)) : null)),
        );
        await dashboard?.close();
        await coordinator.close();
      };
      let stopping = false;
      const onSignal = () => {
        if (stopping) return;
        stopping = true;
        log('chorus demo: stopping workers and coordinator…');
        void stopAll().then(() => process.exit(130));
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);

      for (let i = 0; i < workers; i++) {
        // The token travels in the environment, not argv, so other users' `ps` cannot read it.
        const child = spawn(
          process.execPath,
          [
            CLI_ENTRY,
            'worker',
            '--coordinator',
            coordinator.url,
            '--name',
            `local-${i}`,
            '--log-level',
            'warn',
          ],
          {
            stdio: ['ignore', 'ignore', 'inherit'],
            env: childProcessEnv({ CHORUS_WORKER_TOKEN: coordinator.workerToken }),
          },
        );
        children.push(child);
      }
      log(`chorus demo: ${plural(workers, 'local worker process', 'local worker processes')} started`);

      if (flags.dashboard) {
        const { startDashboard } = await import('@chorus/dashboard');
        try {
          dashboard = await startDashboard({
            databaseUrl: coordinator.databaseUrl,
            coordinatorUrl: coordinator.url,
            viewerToken: coordinator.viewerToken,
            port: dashboardPort,
            log: (line) => log(`chorus demo: ${line}`),
          });
        } catch (error) {
          await stopAll();
          throw error instanceof Error
            ? new ChorusError('unavailable', error.message, { cause: error })
            : error;
        }
      }

      // Reads with the viewer token, over HTTP and the socket alike (coordinator-options.ts).
      const readAuth = { token: coordinator.viewerToken };
      const client = Object.assign(
        createHttpClient({ baseUrl: coordinator.url, token: coordinator.viewerToken }),
        {
          socket: { auth: () => readAuth },
        },
      );
      const runId = await launchRun(client, coordinator.adminToken, cfg);
      log(
        `chorus demo: run ${runId}: ${cfg.members} × ${modelLabel(cfg)} on ${cfg.dataset}, ${cfg.sharding} sharding, ` +
          plural(cfg.epochs, 'epoch'),
      );
      log(
        dashboard
          ? `chorus demo: watch it live at ${runPageUrl(dashboard.url, runId)}`
          : `chorus demo: the API shows it at ${coordinator.url}/api/runs/${runId}`,
      );
      await followAndPrintRun(client, runId, { json: Boolean(flags.json), log });
      if (flags.exitWhenDone) {
        await stopAll();
        process.exit(0);
      }
      log(
        `chorus demo: run finished; still serving ${dashboard ? `the dashboard on ${dashboard.url} and ` : ''}` +
          `the coordinator on ${coordinator.url} — Ctrl-C to stop`,
      );
    });
}
