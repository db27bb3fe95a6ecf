import { hostname } from 'node:os';
import { pathToFileURL } from 'node:url';
import type { Logger } from 'pino';
import { ChorusError } from '@chorus/protocol';
import { colorEnabled, createLogger, resolveLogFormat } from '@chorus/terminal';
import {
  childWorkerEnv,
  readColorEnv,
  readEnv,
  resolveWorkerSettings,
  type WorkerFlags,
  type WorkerSettings,
} from './env';
import { findGpus } from './gpus';
import { parseGpuList, superviseWorkers } from './supervisor';
import { startWorker, type WorkerHandle } from './worker';
import { readTlsTrust } from './tls-trust';

export interface WorkerMainOptions {
  /**
   * How this program is started, after node and its flags: `--gpus` starts it again once per GPU
   * (default: the script this process runs; the CLI passes `[bin/chorus.mjs, 'worker']`).
   */
  entry?: string[];
  /** Restarts per GPU before `--gpus` gives a GPU up (default 5), and the first backoff (1 s). */
  maxRestarts?: number;
  backoffMs?: number;
}

/** Prints one line per GPU found; with `--gpus`, starts and supervises one worker per GPU. */
async function superviseGpus(
  settings: WorkerSettings,
  logger: Logger,
  options: WorkerMainOptions,
): Promise<number> {
  const found = await findGpus(settings.backend, settings.allowSoftwareGpu);
  for (const gpu of found) process.stderr.write(`${gpu.line}\n`);
  if (found.length === 0) {
    throw new ChorusError(
      'invalid-input',
      `--gpus: no GPU found for --backend ${settings.backend}` +
        (settings.backend === 'tensorflow'
          ? ' (nvidia-smi lists none)'
          : ' (no hardware WebGPU adapter: a GPU needs its Vulkan driver and libvulkan1; ' +
            'CHORUS_WEBGPU_ALLOW_SOFTWARE=1 counts software adapters)'),
    );
  }
  let gpus: number[];
  try {
    gpus = parseGpuList(
      settings.gpus ?? 'all',
      found.map((g) => g.index),
    );
  } catch (e) {
    throw new ChorusError('invalid-input', e instanceof Error ? e.message : String(e));
  }
  const base = settings.name ?? hostname();
  const entry = options.entry ?? [process.argv[1] ?? ''];
  const supervisor = superviseWorkers({
    gpus,
    logger,
    ...(options.maxRestarts !== undefined ? { maxRestarts: options.maxRestarts } : {}),
    ...(options.backoffMs !== undefined ? { backoffMs: options.backoffMs } : {}),
    commandFor: (gpu) => ({
      command: process.execPath,
      args: [...process.execArgv, ...entry],
      env: childWorkerEnv(settings, gpu, `${base}-gpu${gpu}`),
    }),
  });
  const onSignal = (signal: NodeJS.Signals): void => {
    logger.info({ signal }, 'stopping every worker process');
    void supervisor.stop(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await supervisor.finished;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * The worker process: settings from flags and the environment, a pino logger, the worker, and
 * signal handling. SIGTERM drains (the worker's `drain`: every member is checkpointed at its next
 * step and released to the coordinator, which hands it to another worker; then exit 0). SIGINT
 * stops taking work, lets the step in progress finish, disconnects and exits 0 (the leases then
 * expire and the members resume elsewhere from their last checkpoints). A second signal exits at
 * once. Resolves with the exit code; a refused handshake rejects with a ChorusError that says why.
 */
export async function runWorkerMain(flags: WorkerFlags, options: WorkerMainOptions = {}): Promise<number> {
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
  if (settings.gpus !== undefined) return superviseGpus(settings, logger, options);
  if (settings.gpu === undefined && (settings.backend === 'webgpu' || settings.backend === 'tensorflow')) {
    // What this machine offers, before the backend takes GPU 0 (children of --gpus are pinned: quiet).
    for (const gpu of await findGpus(settings.backend, settings.allowSoftwareGpu))
      process.stderr.write(`${gpu.line}\n`);
  }
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
      allowSoftwareGpu: settings.allowSoftwareGpu,
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

// `tsx apps/worker/src/main.ts`: a worker configured by the environment alone (containers). Not when
// this module is bundled into another program (the GPU kit's CLI), whose URL is then this one's too.
const runDirectly =
  process.argv[1] !== undefined &&
  import.meta.url.endsWith('/main.ts') &&
  import.meta.url === pathToFileURL(process.argv[1]).href;
if (runDirectly) {
  runWorkerMain({}).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`chorus worker: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
