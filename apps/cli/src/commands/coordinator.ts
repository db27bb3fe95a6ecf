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
}

/**
 * `chorus coordinator`: the HTTP API and socket.io server that hands members to workers and
 * gathers their predictions. Flags win over the environment (CHORUS_HOST, CHORUS_PORT,
 * CHORUS_DATA_DIR, LOG_FORMAT, CHORUS_DATASET_ROOTS; DATABASE_URL, CHORUS_WORKER_TOKEN, CHORUS_ADMIN_TOKEN, CHORUS_LEASE_MS, LOG_LEVEL).
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
          },
        });
      } catch (error) {
        if (error instanceof EnvError) throw new ChorusError('invalid-input', error.message);
        throw error;
      }
    });
}
