import { pathToFileURL } from 'node:url';
import { colorEnabled, createLogger, resolveLogFormat } from '@chorus/terminal';
import { readColorEnv, readEnv, resolveWorkerSettings, type WorkerFlags } from './env';
import { startWorker, type WorkerHandle } from './worker';
import { readTlsTrust } from './tls-trust';

/**
 * The worker process: settings from flags and the environment, a pino logger, the worker, and
 * signal handling. SIGTERM drains (the worker's `drain`: every member is checkpointed at its next
 * step and released to the coordinator, which hands it to another worker; then exit 0). SIGINT
 * stops taking work, lets the step in progress finish, disconnects and exits 0 (the leases then
 * expire and the members resume elsewhere from their last checkpoints). A second signal exits at
 * once. Resolves with the exit code; a refused handshake rejects with a ChorusError that says why.
 */
export async function runWorkerMain(flags: WorkerFlags): Promise<number> {
  const settings = resolveWorkerSettings(flags, readEnv());
  const logger = createLogger({
    name: 'chorus-worker',
    level: settings.logLevel,
    format: resolveLogFormat(settings.logFormat, process.stdout),
    color: colorEnabled(process.stdout, readColorEnv()),
  });
  logger.info(
    { coordinator: settings.coordinatorUrl, backend: settings.backend, slots: settings.slots },
    'worker starting',
  );
  let handle: WorkerHandle | undefined;
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (handle === undefined) {
      // Still starting (choosing a backend, reaching the coordinator): nothing to finish.
      logger.info({ signal }, 'stopped before the worker started');
      process.exit(0);
    }
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(130);
    }
    if (signal === 'SIGTERM') {
      logger.info({ signal }, 'draining: releasing every member at its next step, then exiting');
      void handle.drain(`${signal} received`);
      return;
    }
    logger.info({ signal }, 'stopping: finishing the current step, then disconnecting');
    void handle.close();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    handle = await startWorker({
      coordinatorUrl: settings.coordinatorUrl,
      token: settings.token,
      backend: settings.backend,
      ...(settings.gpu !== undefined ? { gpu: settings.gpu } : {}),
      slots: settings.slots,
      ...(settings.name !== undefined ? { name: settings.name } : {}),
      cacheDir: settings.cacheDir,
      ...(settings.reconnectMaxMs !== undefined ? { reconnectMaxMs: settings.reconnectMaxMs } : {}),
      ...(settings.caFile !== undefined ? { tls: readTlsTrust(settings.caFile) } : {}),
      ...(settings.metricsPort !== undefined ? { metricsPort: settings.metricsPort } : {}),
      ...(settings.healthPort !== undefined ? { healthPort: settings.healthPort } : {}),
      opsHost: settings.metricsHost,
      logger,
    });
    await handle.finished;
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

// `tsx apps/worker/src/main.ts`: a worker configured by the environment alone (containers).
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runWorkerMain({}).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`chorus worker: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
