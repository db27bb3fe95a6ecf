import { delimiter } from 'node:path';
import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import { colorEnabled, createLogger, resolveLogFormat } from '@chorus/terminal';
import { startCoordinator, type RunningCoordinator } from './coordinator';
import { parseEnv, processEnv } from './env';
import { startupLines } from './startup-lines';

export interface CoordinatorFlags {
  host?: string | undefined;
  port?: string | number | undefined;
  dataDir?: string | undefined;
  logFormat?: string | undefined;
  /** `--dataset-root`, repeatable: replaces CHORUS_DATASET_ROOTS. */
  datasetRoots?: readonly string[] | undefined;
  /** `--max-member-params`: replaces CHORUS_MAX_MEMBER_PARAMS. */
  maxMemberParams?: string | number | undefined;
  /** `--require-auth`: CHORUS_REQUIRE_AUTH=1. */
  requireAuth?: boolean | undefined;
  /** `--tls-cert`, `--tls-key`: CHORUS_TLS_CERT, CHORUS_TLS_KEY. */
  tlsCert?: string | undefined;
  tlsKey?: string | undefined;
  /** `--require-tls`: CHORUS_REQUIRE_TLS=1. */
  requireTls?: boolean | undefined;
}

export interface MainOptions {
  /** Command-line flags (`--host`, `--port`, `--data-dir`, `--log-format`, `--dataset-root`, `--max-member-params`, `--require-auth`, `--tls-cert`, `--tls-key`, `--require-tls`), as strings to parse or already parsed; they win over the environment. */
  argv?: readonly string[] | CoordinatorFlags;
  /** The environment (default: the process's). */
  env?: Record<string, string | undefined>;
  logger?: Logger;
  /** Where the human-readable start-up lines go (default stderr). */
  print?: (line: string) => void;
  /** Stop on SIGINT/SIGTERM (default true). */
  handleSignals?: boolean;
}

/**
 * `chorus coordinator`: parses flags and environment (env.ts), starts the coordinator, says where
 * it listens and where its tokens are, and shuts down cleanly on SIGINT/SIGTERM.
 */
export async function main(options: MainOptions = {}): Promise<RunningCoordinator> {
  const flags = Array.isArray(options.argv)
    ? parseFlags(options.argv)
    : ((options.argv as CoordinatorFlags | undefined) ?? {});
  const source = { ...(options.env ?? processEnv()) };
  if (flags.host !== undefined) source.CHORUS_HOST = flags.host;
  if (flags.port !== undefined) source.CHORUS_PORT = String(flags.port);
  if (flags.dataDir !== undefined) source.CHORUS_DATA_DIR = flags.dataDir;
  if (flags.logFormat !== undefined) source.LOG_FORMAT = flags.logFormat;
  if (flags.datasetRoots !== undefined && flags.datasetRoots.length > 0) {
    source.CHORUS_DATASET_ROOTS = flags.datasetRoots.join(delimiter);
  }
  if (flags.maxMemberParams !== undefined) source.CHORUS_MAX_MEMBER_PARAMS = String(flags.maxMemberParams);
  if (flags.requireAuth) source.CHORUS_REQUIRE_AUTH = '1';
  if (flags.tlsCert !== undefined) source.CHORUS_TLS_CERT = flags.tlsCert;
  if (flags.tlsKey !== undefined) source.CHORUS_TLS_KEY = flags.tlsKey;
  if (flags.requireTls) source.CHORUS_REQUIRE_TLS = '1';
  const env = parseEnv(source);
  const logger =
    options.logger ??
    createLogger({
      name: 'chorus-coordinator',
      level: env.logLevel,
      format: resolveLogFormat(env.logFormat, process.stdout),
      color: colorEnabled(process.stdout, source),
    });
  const print = options.print ?? ((line: string) => process.stderr.write(`${line}\n`));

  const coordinator = await startCoordinator({
    host: env.host,
    port: env.port,
    dataDir: env.dataDir,
    databaseUrl: env.databaseUrl,
    workerToken: env.workerToken,
    adminToken: env.adminToken,
    viewerToken: env.viewerToken,
    requireAuth: env.requireAuth,
    ...(env.tls && { tls: env.tls }),
    requireTls: env.requireTls,
    leaseMs: env.leaseMs,
    ...(env.handover ? {} : { handover: false as const }),
    ...(env.datasetRoots !== undefined && { datasetRoots: env.datasetRoots }),
    datasetMaxBytes: env.datasetMaxBytes,
    uploadMaxBytes: env.uploadMaxBytes,
    maxMemberParams: env.maxMemberParams,
    workerRetentionMs: env.workerRetentionMs,
    rateLimits: env.rateLimits,
    logger,
  });
  for (const line of startupLines(coordinator, env.dataDir)) print(line);

  if (options.handleSignals === false) return coordinator;
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      print(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    print(`${signal}: shutting down (flushing metrics, closing connections)…`);
    coordinator.close().then(
      () => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exitCode = 1;
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    ...coordinator,
    close: async () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await coordinator.close();
    },
  };
}

function parseFlags(argv: readonly string[]): CoordinatorFlags {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      'data-dir': { type: 'string' },
      'log-format': { type: 'string' },
      'dataset-root': { type: 'string', multiple: true },
      'max-member-params': { type: 'string' },
      'require-auth': { type: 'boolean' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'require-tls': { type: 'boolean' },
    },
    strict: true,
    allowPositionals: false,
  });
  return {
    host: values.host,
    port: values.port,
    dataDir: values['data-dir'],
    logFormat: values['log-format'],
    datasetRoots: values['dataset-root'],
    maxMemberParams: values['max-member-params'],
    requireAuth: values['require-auth'],
    tlsCert: values['tls-cert'],
    tlsKey: values['tls-key'],
    requireTls: values['require-tls'],
  };
}
