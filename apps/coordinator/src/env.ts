import { delimiter } from 'node:path';
import { z } from 'zod';
import { DEFAULT_MAX_MEMBER_PARAMS, formatIssues, MIN_TOKEN_LENGTH } from '@chorus/protocol';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from '@chorus/terminal';
import { DEFAULT_RATE_LIMITS, type RateLimits } from './sockets/rate-limit';

export { MIN_TOKEN_LENGTH };

/** Blank values count as unset, so `FOO=` in a .env file does not become an empty secret. */
const optionalString = z.preprocess(
  (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
  z.string().trim().optional(),
);
const withDefault = <T extends z.ZodType>(schema: T, fallback: z.input<T>) =>
  z.preprocess((v) => (v === undefined || (typeof v === 'string' && v.trim() === '') ? fallback : v), schema);

const token = (name: string) =>
  optionalString.refine((v) => v === undefined || v.length >= MIN_TOKEN_LENGTH, {
    message: `${name} must be at least ${MIN_TOKEN_LENGTH} characters (leave it unset to generate one)`,
  });

/** An on/off switch: 1/true/on or 0/false/off (unset: off). */
const flag = withDefault(z.enum(['1', '0', 'on', 'off', 'true', 'false']), 'off').transform((v) =>
  ['1', 'on', 'true'].includes(v),
);

const EnvSchema = z
  .object({
    DATABASE_URL: optionalString.refine((v) => v === undefined || /^postgres(ql)?:\/\//.test(v), {
      message: 'must be a postgresql:// connection string (leave it unset for the embedded database)',
    }),
    CHORUS_WORKER_TOKEN: token('CHORUS_WORKER_TOKEN'),
    CHORUS_ADMIN_TOKEN: token('CHORUS_ADMIN_TOKEN'),
    /** Read-only access (README "Operating Chorus", "Tokens"). */
    CHORUS_VIEWER_TOKEN: token('CHORUS_VIEWER_TOKEN'),
    /** Reads need a token even on loopback (beyond loopback they always do). */
    CHORUS_REQUIRE_AUTH: flag,
    /** HTTPS: the certificate chain and private key (PEM files); both or neither. */
    CHORUS_TLS_CERT: optionalString,
    CHORUS_TLS_KEY: optionalString,
    /** Refuse to start bound beyond loopback without TLS. */
    CHORUS_REQUIRE_TLS: flag,
    CHORUS_HOST: withDefault(z.string().trim().min(1), '127.0.0.1'),
    CHORUS_PORT: withDefault(z.coerce.number().int().min(0).max(65_535), 4000),
    CHORUS_DATA_DIR: withDefault(z.string().trim().min(1), '.chorus'),
    CHORUS_LEASE_MS: withDefault(z.coerce.number().int().min(1_000).max(3_600_000), 30_000),
    /** Straggler handover (an idle, faster worker takes over a slower one's member): on unless 0/off/false. */
    CHORUS_HANDOVER: withDefault(z.enum(['1', '0', 'on', 'off', 'true', 'false']), 'on'),
    /** Directories a run's datasetPath may point into, `:`-separated (default: data dir + built-in places). */
    CHORUS_DATASET_ROOTS: optionalString,
    /** The most bytes one dataset file may hold, decompressed. */
    CHORUS_DATASET_MAX_BYTES: withDefault(z.coerce.number().int().min(1), 256 * 1024 * 1024),
    /** The largest dataset bundle an upload (PUT /api/datasets/:sha256) may hold (default 4 GiB). */
    CHORUS_UPLOAD_MAX_BYTES: withDefault(z.coerce.number().int().min(1), 4 * 1024 ** 3),
    /** The most parameters one member of a run may have (a larger one is refused at launch). */
    CHORUS_MAX_MEMBER_PARAMS: withDefault(z.coerce.number().int().min(1), DEFAULT_MAX_MEMBER_PARAMS),
    /** Offline workers holding no member are forgotten after this long (default 7 days). */
    CHORUS_WORKER_RETENTION_MS: withDefault(z.coerce.number().int().min(60_000), 7 * 24 * 3_600_000),
    /** Per-worker budgets (README "Limits"): messages and bytes a second per slot, heartbeats a second. */
    CHORUS_RATE_MESSAGES_PER_SLOT: withDefault(
      z.coerce.number().positive(),
      DEFAULT_RATE_LIMITS.messagesPerSlot,
    ),
    CHORUS_RATE_BYTES_PER_SLOT: withDefault(z.coerce.number().positive(), DEFAULT_RATE_LIMITS.bytesPerSlot),
    CHORUS_RATE_HEARTBEATS: withDefault(
      z.coerce.number().positive(),
      DEFAULT_RATE_LIMITS.heartbeatsPerSecond,
    ),
    LOG_LEVEL: withDefault(z.enum(LOG_LEVELS), 'info'),
    /** Unset: human lines on a terminal, JSON on a file or pipe. */
    LOG_FORMAT: optionalString.pipe(z.enum(LOG_FORMATS).optional()),
  })
  .superRefine((env, ctx) => {
    if (env.CHORUS_WORKER_TOKEN !== undefined && env.CHORUS_WORKER_TOKEN === env.CHORUS_ADMIN_TOKEN) {
      ctx.addIssue({
        code: 'custom',
        path: ['CHORUS_ADMIN_TOKEN'],
        message: 'must differ from CHORUS_WORKER_TOKEN: workers must not be able to launch or cancel runs',
      });
    }
    const viewer = env.CHORUS_VIEWER_TOKEN;
    if (viewer !== undefined && (viewer === env.CHORUS_ADMIN_TOKEN || viewer === env.CHORUS_WORKER_TOKEN)) {
      ctx.addIssue({
        code: 'custom',
        path: ['CHORUS_VIEWER_TOKEN'],
        message: 'must differ from CHORUS_ADMIN_TOKEN and CHORUS_WORKER_TOKEN: it only reads',
      });
    }
    if ((env.CHORUS_TLS_CERT === undefined) !== (env.CHORUS_TLS_KEY === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [env.CHORUS_TLS_CERT === undefined ? 'CHORUS_TLS_CERT' : 'CHORUS_TLS_KEY'],
        message:
          'TLS needs both the certificate (--tls-cert, CHORUS_TLS_CERT) and its key (--tls-key, CHORUS_TLS_KEY)',
      });
    }
  });

export interface CoordinatorEnv {
  databaseUrl: string | undefined;
  workerToken: string | undefined;
  adminToken: string | undefined;
  viewerToken: string | undefined;
  requireAuth: boolean;
  /** Undefined: plain HTTP. */
  tls: { certFile: string; keyFile: string } | undefined;
  requireTls: boolean;
  host: string;
  port: number;
  dataDir: string;
  leaseMs: number;
  handover: boolean;
  /** Undefined: the default roots (coordinator.ts). */
  datasetRoots: string[] | undefined;
  datasetMaxBytes: number;
  uploadMaxBytes: number;
  maxMemberParams: number;
  workerRetentionMs: number;
  rateLimits: RateLimits;
  logLevel: LogLevel;
  logFormat: LogFormat | undefined;
}

export class EnvError extends Error {
  override readonly name = 'EnvError';
}

/** Parses the coordinator's environment; throws an EnvError listing every bad variable. */
export function parseEnv(source: Record<string, string | undefined>): CoordinatorEnv {
  const result = EnvSchema.safeParse(source);
  if (!result.success) {
    throw new EnvError(`invalid coordinator environment:\n${formatIssues(result.error)}`);
  }
  const env = result.data;
  return {
    databaseUrl: env.DATABASE_URL,
    workerToken: env.CHORUS_WORKER_TOKEN,
    adminToken: env.CHORUS_ADMIN_TOKEN,
    viewerToken: env.CHORUS_VIEWER_TOKEN,
    requireAuth: env.CHORUS_REQUIRE_AUTH,
    tls:
      env.CHORUS_TLS_CERT !== undefined && env.CHORUS_TLS_KEY !== undefined
        ? { certFile: env.CHORUS_TLS_CERT, keyFile: env.CHORUS_TLS_KEY }
        : undefined,
    requireTls: env.CHORUS_REQUIRE_TLS,
    host: env.CHORUS_HOST,
    port: env.CHORUS_PORT,
    dataDir: env.CHORUS_DATA_DIR,
    leaseMs: env.CHORUS_LEASE_MS,
    handover: ['1', 'on', 'true'].includes(env.CHORUS_HANDOVER),
    datasetRoots: env.CHORUS_DATASET_ROOTS?.split(delimiter).filter((r) => r.trim() !== ''),
    datasetMaxBytes: env.CHORUS_DATASET_MAX_BYTES,
    uploadMaxBytes: env.CHORUS_UPLOAD_MAX_BYTES,
    maxMemberParams: env.CHORUS_MAX_MEMBER_PARAMS,
    workerRetentionMs: env.CHORUS_WORKER_RETENTION_MS,
    rateLimits: {
      messagesPerSlot: env.CHORUS_RATE_MESSAGES_PER_SLOT,
      bytesPerSlot: env.CHORUS_RATE_BYTES_PER_SLOT,
      heartbeatsPerSecond: env.CHORUS_RATE_HEARTBEATS,
    },
    logLevel: env.LOG_LEVEL,
    logFormat: env.LOG_FORMAT,
  };
}

/** The process environment (the one place the coordinator reads it). */
export function processEnv(): Record<string, string | undefined> {
  return process.env;
}
