import { Option, type Command } from 'commander';
import { LOG_FORMATS, LOG_LEVELS, runWorkerMain, WORKER_BACKENDS, type WorkerFlags } from '@chorus/worker';
import { readWorkerTokenEnv } from '../env';
import { DEFAULT_DATA_DIR, readTokensFile } from '../tokens-file';

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('train ensemble members for a coordinator (one process per GPU)')
    .option('--coordinator <url>', 'coordinator URL, e.g. http://host:4000 (env CHORUS_COORDINATOR_URL)')
    .option(
      '--token <token>',
      "worker token of the coordinator (env CHORUS_WORKER_TOKEN; else the local coordinator's tokens.json)",
    )
    .option(
      '--data-dir <dir>',
      `data dir of a coordinator on this machine, to read its tokens.json (env CHORUS_DATA_DIR; default ${DEFAULT_DATA_DIR})`,
    )
    .addOption(
      new Option('--backend <name>', 'TensorFlow.js backend (env CHORUS_BACKEND; default auto)').choices(
        WORKER_BACKENDS,
      ),
    )
    .option('--gpu <n>', 'GPU index for the tensorflow or webgpu backend (env CHORUS_GPU)')
    .option(
      '--gpus <list>',
      'start and supervise one worker process per GPU: all, or indices such as 0,2,3 (named <name>-gpu<i>)',
    )
    .option('--slots <n>', 'members trained side by side (env CHORUS_SLOTS; default 1)')
    .option('--name <name>', 'name shown on the dashboard (env CHORUS_WORKER_NAME; default the host name)')
    .option(
      '--ca <file>',
      "PEM certificate of a private CA that signed the coordinator's TLS certificate (env CHORUS_CA)",
    )
    .option(
      '--cache-dir <dir>',
      "dataset cache and this worker's id, kept across restarts (env CHORUS_CACHE_DIR; default .chorus/cache)",
    )
    .option(
      '--metrics-port <port>',
      'serve Prometheus metrics at GET /metrics on this port (env CHORUS_METRICS_PORT; off by default)',
    )
    .option(
      '--health-port <port>',
      'serve GET /health on this port: 200 while connected, else 503 (env CHORUS_HEALTH_PORT; off by default; may equal --metrics-port)',
    )
    .option(
      '--metrics-host <host>',
      'interface of the metrics and health servers (env CHORUS_METRICS_HOST; default 127.0.0.1)',
    )
    .addOption(
      new Option('--log-level <level>', 'log level (env LOG_LEVEL; default info)').choices(LOG_LEVELS),
    )
    .addOption(
      new Option(
        '--log-format <format>',
        'log lines: pretty (for people) or json (env LOG_FORMAT; default pretty on a terminal, json otherwise)',
      ).choices(LOG_FORMATS),
    )
    .addHelpText(
      'after',
      `
A machine with several GPUs runs one worker process per GPU (tfjs drives one GPU per process);
--gpus starts them, each pinned to its GPU, restarts one that crashes (with a backoff, at most 5
times) and stops them all on Ctrl-C or SIGTERM:
  npx chorus worker --coordinator http://host:4000 --backend webgpu --gpus all
  npx chorus worker --coordinator http://host:4000 --backend tensorflow --gpus 0,2,3
--backend webgpu uses a hardware adapter only; CHORUS_WEBGPU_ALLOW_SOFTWARE=1 lets it take a
software one (Mesa llvmpipe, for tests). Without a GPU, run one worker per few CPU cores (the
wasm backend uses one thread).

Lost connections are retried with a backoff up to 30 s (env CHORUS_RECONNECT_MAX_MS, in ms).

SIGTERM drains: each member is checkpointed at its next step and handed back to the coordinator,
which gives it to another worker; then the worker exits 0 (no epoch is lost). Ctrl-C (SIGINT)
stops taking work, finishes the step in progress and disconnects; the member's lease expires and
another worker resumes it from its last checkpoint.`,
    )
    .action(async ({ dataDir, ...flags }: WorkerFlags & { dataDir?: string }) => {
      // As `chorus run` finds the admin token: the flag, the environment, then the local tokens.json.
      const env = readWorkerTokenEnv();
      if (flags.token === undefined && env.token === undefined) {
        const tokens = await readTokensFile(dataDir ?? env.dataDir ?? DEFAULT_DATA_DIR);
        if (tokens !== undefined) flags.token = tokens.workerToken;
      }
      const code = await runWorkerMain(flags, { entry: [process.argv[1] ?? '', 'worker'] });
      // Exit now rather than wait for idle keep-alive sockets and timers of libraries to drain.
      process.exit(code);
    });
}
