import { z } from 'zod';
import { BACKENDS, ChorusError, formatIssues } from '@chorus/protocol';
import { LOG_FORMATS, LOG_LEVELS, type ColorEnv, type LogFormat, type LogLevel } from '@chorus/terminal';

/**
 * The worker's settings: from the environment (parseEnv) and from command-line flags, flags
 * winning (resolveWorkerSettings). The only file of the worker that reads `process.env`.
 */

export const WORKER_BACKENDS = ['auto', ...BACKENDS] as const;
export type WorkerBackendPreference = (typeof WORKER_BACKENDS)[number];
export { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel };

/** Blank values count as unset: `CHORUS_GPU= npx chorus worker` must not mean GPU 0. */
const blankIsUnset = (value: unknown): unknown =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;
const optional = <T extends z.ZodType>(schema: T) => z.preprocess(blankIsUnset, schema.optional());

const url = z
  .string()
  .trim()
  .refine((u) => /^https?:\/\/[^/]/i.test(u) && URL.canParse(u), 'must be a URL such as http://host:4000');
const backend = z.enum(WORKER_BACKENDS);
const gpu = z.coerce.number().int('must be a whole number').min(0, 'must be ≥ 0');
const slots = z.coerce.number().int('must be a whole number').min(1, 'must be ≥ 1').max(64, 'must be ≤ 64');
const name = z.string().trim().min(1).max(120);
/** The cap of the reconnect backoff (connection.ts), in ms: 1 s to 10 min. */
const reconnectMaxMs = z.coerce
  .number()
  .int('must be a whole number of milliseconds')
  .min(1_000, 'must be ≥ 1000')
  .max(600_000, 'must be ≤ 600000');

/** A TCP port for the metrics and health servers (0: any free one). */
const port = z.coerce
  .number()
  .int('must be a whole number')
  .min(0, 'must be ≥ 0')
  .max(65_535, 'must be ≤ 65535');
/** The interface those servers bind: an IP address or a host name. */
const host = z.string().trim().min(1).max(255);
/** `1`/`true` or `0`/`false`. */
const flag = z
  .enum(['1', 'true', '0', 'false'], { message: 'must be 1, true, 0 or false' })
  .transform((v) => v === '1' || v === 'true');

const EnvSchema = z.object({
  CHORUS_WEBGPU_ALLOW_SOFTWARE: optional(flag),
  CHORUS_COORDINATOR_URL: optional(url),
  CHORUS_WORKER_TOKEN: optional(z.string().min(1)),
  CHORUS_BACKEND: optional(backend),
  CHORUS_GPU: optional(gpu),
  CHORUS_SLOTS: optional(slots),
  CHORUS_WORKER_NAME: optional(name),
  CHORUS_CACHE_DIR: optional(z.string().min(1)),
  CHORUS_RECONNECT_MAX_MS: optional(reconnectMaxMs),
  /** A PEM file: the private CA that signed the coordinator's certificate. */
  CHORUS_CA: optional(z.string().min(1)),
  CHORUS_METRICS_PORT: optional(port),
  CHORUS_HEALTH_PORT: optional(port),
  CHORUS_METRICS_HOST: optional(host),
  LOG_LEVEL: optional(z.enum(LOG_LEVELS)),
  LOG_FORMAT: optional(z.enum(LOG_FORMATS)),
});

export interface WorkerEnv {
  /** `--backend webgpu` may take a software adapter (Mesa llvmpipe; for CI). */
  allowSoftwareGpu?: boolean;
  coordinatorUrl?: string;
  token?: string;
  backend?: WorkerBackendPreference;
  gpu?: number;
  slots?: number;
  name?: string;
  cacheDir?: string;
  reconnectMaxMs?: number;
  caFile?: string;
  metricsPort?: number;
  healthPort?: number;
  metricsHost?: string;
  logLevel?: LogLevel;
  logFormat?: LogFormat;
}

/** Parses the worker's environment variables; throws a ChorusError naming every bad variable. */
export function parseEnv(source: Record<string, string | undefined>): WorkerEnv {
  const result = EnvSchema.safeParse(source);
  if (!result.success) {
    throw new ChorusError('invalid-input', `invalid worker environment:\n${formatIssues(result.error)}`);
  }
  const e = result.data;
  return dropUndefined({
    allowSoftwareGpu: e.CHORUS_WEBGPU_ALLOW_SOFTWARE,
    coordinatorUrl: e.CHORUS_COORDINATOR_URL,
    token: e.CHORUS_WORKER_TOKEN,
    caFile: e.CHORUS_CA,
    backend: e.CHORUS_BACKEND,
    gpu: e.CHORUS_GPU,
    slots: e.CHORUS_SLOTS,
    name: e.CHORUS_WORKER_NAME,
    cacheDir: e.CHORUS_CACHE_DIR,
    reconnectMaxMs: e.CHORUS_RECONNECT_MAX_MS,
    metricsPort: e.CHORUS_METRICS_PORT,
    healthPort: e.CHORUS_HEALTH_PORT,
    metricsHost: e.CHORUS_METRICS_HOST,
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
  });
}

/**
 * The environment of the worker process that `--gpus` starts for one GPU: this one's, with the
 * settings passed as the variables parseEnv reads (the token stays out of argv) and the GPU and name
 * of that worker.
 */
export function childWorkerEnv(settings: WorkerSettings, gpu: number, name: string): NodeJS.ProcessEnv {
  const set: Record<string, string | undefined> = {
    CHORUS_COORDINATOR_URL: settings.coordinatorUrl,
    CHORUS_WORKER_TOKEN: settings.token,
    CHORUS_BACKEND: settings.backend,
    CHORUS_GPU: String(gpu),
    CHORUS_SLOTS: String(settings.slots),
    CHORUS_WORKER_NAME: name,
    CHORUS_CACHE_DIR: settings.cacheDir,
    CHORUS_WEBGPU_ALLOW_SOFTWARE: settings.allowSoftwareGpu ? '1' : '0',
    LOG_LEVEL: settings.logLevel,
    LOG_FORMAT: settings.logFormat,
    ...(settings.reconnectMaxMs !== undefined
      ? { CHORUS_RECONNECT_MAX_MS: String(settings.reconnectMaxMs) }
      : {}),
  };
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [key, value] of Object.entries(set)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** This process's environment. */
export function readEnv(): WorkerEnv {
  return parseEnv(process.env);
}

/** The variables that decide whether log lines get colours (colorEnabled). */
export function readColorEnv(): ColorEnv {
  return { NO_COLOR: process.env.NO_COLOR, FORCE_COLOR: process.env.FORCE_COLOR, TERM: process.env.TERM };
}

/** Flags as commander hands them over (strings; undefined when not given). */
export interface WorkerFlags {
  coordinator?: string;
  token?: string;
  backend?: string;
  gpu?: string;
  /** `all` or a list such as `0,2,3`: one supervised worker process per GPU (supervisor.ts). */
  gpus?: string;
  slots?: string;
  name?: string;
  cacheDir?: string;
  ca?: string;
  metricsPort?: string;
  healthPort?: string;
  metricsHost?: string;
  logLevel?: string;
  logFormat?: string;
}

export interface WorkerSettings {
  coordinatorUrl: string;
  token: string;
  backend: WorkerBackendPreference;
  gpu?: number;
  /** Start one worker process per GPU: `all` or the list as given (parseGpuList checks it). */
  gpus?: string;
  allowSoftwareGpu: boolean;
  slots: number;
  name?: string;
  cacheDir: string;
  /** The reconnect backoff's cap (CHORUS_RECONNECT_MAX_MS; default 30 s). */
  reconnectMaxMs?: number;
  /** `--ca` / CHORUS_CA: a PEM file of the CA to trust for https:// and wss:// (tls-trust.ts). */
  caFile?: string;
  /** GET /metrics and GET /health servers (off unless given), bound to metricsHost (127.0.0.1). */
  metricsPort?: number;
  healthPort?: number;
  metricsHost: string;
  logLevel: LogLevel;
  /** Unset: human lines on a terminal, JSON on a file or pipe (resolveLogFormat). */
  logFormat?: LogFormat;
}

export const DEFAULT_CACHE_DIR = '.chorus/cache';

const FlagsSchema = z.object({
  coordinator: optional(url),
  token: optional(z.string().min(1)),
  backend: optional(backend),
  gpu: optional(gpu),
  gpus: optional(z.string().trim().min(1)),
  slots: optional(slots),
  name: optional(name),
  cacheDir: optional(z.string().min(1)),
  ca: optional(z.string().min(1)),
  metricsPort: optional(port),
  healthPort: optional(port),
  metricsHost: optional(host),
  logLevel: optional(z.enum(LOG_LEVELS)),
  logFormat: optional(z.enum(LOG_FORMATS)),
});

/**
 * The settings of one worker process: each flag wins over its environment variable; the
 * coordinator URL and the token are required (no silent default for a secret).
 */
export function resolveWorkerSettings(flags: WorkerFlags, env: WorkerEnv): WorkerSettings {
  const parsed = FlagsSchema.safeParse(flags);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `--${kebab(String(i.path[0] ?? '?'))}: ${i.message}`);
    throw new ChorusError('invalid-input', `invalid worker options:\n${lines.join('\n')}`);
  }
  const f = parsed.data;
  const coordinatorUrl = f.coordinator ?? env.coordinatorUrl;
  if (coordinatorUrl === undefined) {
    throw new ChorusError(
      'invalid-input',
      'no coordinator: pass --coordinator http://host:4000 or set CHORUS_COORDINATOR_URL',
    );
  }
  const token = f.token ?? env.token;
  if (token === undefined) {
    throw new ChorusError(
      'invalid-input',
      'no worker token: pass --token or set CHORUS_WORKER_TOKEN to the coordinator’s worker token. ' +
        'On the coordinator’s machine `npx chorus tokens --data-dir DIR` prints it (DIR: the ' +
        'coordinator’s --data-dir, default .chorus), and `npx chorus worker --data-dir DIR` finds it there.',
    );
  }
  const preference = f.backend ?? env.backend ?? 'auto';
  const gpuIndex = f.gpu ?? env.gpu;
  const onGpu = preference === 'auto' || preference === 'tensorflow' || preference === 'webgpu';
  if (gpuIndex !== undefined && !onGpu) {
    throw new ChorusError(
      'invalid-input',
      `--gpu (CHORUS_GPU) pins a GPU of the tensorflow or webgpu backend; it makes no sense with --backend ${preference}`,
    );
  }
  if (f.gpus !== undefined && !onGpu) {
    throw new ChorusError(
      'invalid-input',
      `--gpus starts one worker per GPU of the tensorflow or webgpu backend; it makes no sense with --backend ${preference}`,
    );
  }
  if (f.gpus !== undefined && gpuIndex !== undefined) {
    throw new ChorusError('invalid-input', '--gpus starts one worker per GPU; leave out --gpu (CHORUS_GPU)');
  }
  const workerName = f.name ?? env.name;
  const metricsPort = f.metricsPort ?? env.metricsPort;
  const healthPort = f.healthPort ?? env.healthPort;
  const logFormat = f.logFormat ?? env.logFormat;
  return {
    coordinatorUrl: coordinatorUrl.replace(/\/+$/, ''),
    token,
    backend: preference,
    ...(gpuIndex !== undefined ? { gpu: gpuIndex } : {}),
    ...(f.gpus !== undefined ? { gpus: f.gpus } : {}),
    allowSoftwareGpu: env.allowSoftwareGpu ?? false,
    slots: f.slots ?? env.slots ?? 1,
    ...(workerName !== undefined ? { name: workerName } : {}),
    cacheDir: f.cacheDir ?? env.cacheDir ?? DEFAULT_CACHE_DIR,
    ...(env.reconnectMaxMs !== undefined ? { reconnectMaxMs: env.reconnectMaxMs } : {}),
    ...((f.ca ?? env.caFile) !== undefined ? { caFile: f.ca ?? env.caFile } : {}),
    ...(metricsPort !== undefined ? { metricsPort } : {}),
    ...(healthPort !== undefined ? { healthPort } : {}),
    metricsHost: f.metricsHost ?? env.metricsHost ?? '127.0.0.1',
    logLevel: f.logLevel ?? env.logLevel ?? 'info',
    ...(logFormat !== undefined ? { logFormat } : {}),
  };
}

function kebab(key: string): string {
  return key === 'coordinator' ? key : key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
