import { Option, type Command } from 'commander';
import { ChorusError } from '@chorus/protocol';
import { LOG_FORMATS } from '@chorus/terminal';

interface CoordinatorCommandFlags {
  host?: string;
  port?: string;
  dataDir?: string;
  logFormat?: string;
  datasetRoot?: string[];
  maxMemberParams?: string;
  requireAuth?: boolean;
  tlsCert?: string;
  tlsKey?: string;
  requireTls?: boolean;
}

/**
 * `chorus coordinator`: the HTTP API and socket.io server that hands members to workers and
 * gathers their predictions. Flags win over the environment (CHORUS_HOST, CHORUS_PORT,
 * CHORUS_DATA_DIR, LOG_FORMAT, CHORUS_DATASET_ROOTS, CHORUS_REQUIRE_AUTH, CHORUS_TLS_CERT, CHORUS_TLS_KEY,
 * CHORUS_REQUIRE_TLS; DATABASE_URL, CHORUS_WORKER_TOKEN, CHORUS_ADMIN_TOKEN, CHORUS_VIEWER_TOKEN,
 * CHORUS_LEASE_MS, LOG_LEVEL). README "Operating Chorus" says what the security flags do.
 */
export function registerCoordinatorCommand(program: Command): void {
  program
    .command('coordinator')
    .description(
      'start the coordinator (HTTP API + socket.io for workers and dashboards); Postgres from DATABASE_URL, else an embedded one under --data-dir',
    )
    .option('--host <host>', 'interface to bind (default 127.0.0.1; env CHORUS_HOST)')
    .option('--port <port>', 'port to listen on, 0 for any free one (default 4000; env CHORUS_PORT)')
    .option(
      '--data-dir <dir>',
      'tokens.json, dataset bundles and the embedded database (default .chorus; env CHORUS_DATA_DIR)',
    )
    .option(
      '--dataset-root <dir>',
      "a directory a run's datasetPath may point into; repeat for several (default: the data dir and the built-in dataset places; env CHORUS_DATASET_ROOTS, :-separated)",
      (dir: string, dirs: string[] = []) => [...dirs, dir],
    )
    .option(
      '--max-member-params <n>',
      'the most parameters one member of a run may have; a run with a larger one is refused (default 50000000; env CHORUS_MAX_MEMBER_PARAMS)',
    )
    .option(
      '--require-auth',
      'reads (runs, workers, the dashboard socket) need the viewer or admin token even on loopback; beyond loopback they always do (env CHORUS_REQUIRE_AUTH=1)',
    )
    .option(
      '--tls-cert <file>',
      'serve HTTPS and wss:// with this PEM certificate chain (env CHORUS_TLS_CERT)',
    )
    .option('--tls-key <file>', 'the PEM private key of --tls-cert (env CHORUS_TLS_KEY)')
    .option(
      '--require-tls',
      'refuse to start bound beyond loopback without --tls-cert/--tls-key (env CHORUS_REQUIRE_TLS=1)',
    )
    .addOption(
      new Option(
        '--log-format <format>',
        'log lines: pretty (for people) or json (env LOG_FORMAT; default pretty on a terminal, json otherwise)',
      ).choices(LOG_FORMATS),
    )
    .action(async (flags: CoordinatorCommandFlags) => {
      // Loaded on demand: the other commands need neither fastify nor Prisma.
      const { main, EnvError } = await import('@chorus/coordinator');
      try {
        await main({
          argv: {
            host: flags.host,
            port: flags.port,
            dataDir: flags.dataDir,
            logFormat: flags.logFormat,
            datasetRoots: flags.datasetRoot,
            maxMemberParams: flags.maxMemberParams,
            requireAuth: flags.requireAuth,
            tlsCert: flags.tlsCert,
            tlsKey: flags.tlsKey,
            requireTls: flags.requireTls,
          },
        });
      } catch (error) {
        if (error instanceof EnvError) throw new ChorusError('invalid-input', error.message);
        throw error;
      }
    });
}
