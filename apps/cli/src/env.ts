import { z } from 'zod';
import type { ColorEnv } from '@chorus/terminal';

/** The CLI's environment: fallbacks for flags that carry secrets or addresses. */
const EnvSchema = z.object({
  CHORUS_COORDINATOR_URL: z.string().url().optional(),
  CHORUS_DASHBOARD_URL: z.string().url().optional(),
  CHORUS_ADMIN_TOKEN: z.string().min(1).optional(),
  /** `chorus serve`'s token (instead of --token, which other users of the machine can read in ps). */
  CHORUS_SERVE_TOKEN: z.string().min(1).optional(),
  CHORUS_VIEWER_TOKEN: z.string().min(1).optional(),
  /** A PEM file: the private CA that signed the coordinator's TLS certificate. */
  CHORUS_CA: z.string().min(1).optional(),
  CHORUS_DATA_DIR: z.string().min(1).optional(),
  DATABASE_URL: z.string().min(1).optional(),
});
export type CliEnv = z.infer<typeof EnvSchema>;

export function parseEnv(source: Record<string, string | undefined> = process.env): CliEnv {
  const result = EnvSchema.safeParse(source);
  if (!result.success) {
    throw new Error(
      `invalid environment: ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  return result.data;
}

/** The environment for a child process: this one's, plus `extra` (e.g. a token that must not go in argv). */
export function childProcessEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { ...process.env, ...extra };
}

/** `1`/`true` or `0`/`false` (blank: unset). */
const flag = z.preprocess(
  (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
  z
    .enum(['1', 'true', '0', 'false'], { message: 'must be 1, true, 0 or false' })
    .transform((v) => v === '1' || v === 'true')
    .optional(),
);
const TrainEnvSchema = z.object({ CHORUS_WEBGPU_ALLOW_SOFTWARE: flag });

/**
 * What `chorus train` reads: CHORUS_WEBGPU_ALLOW_SOFTWARE=1 lets `--backend webgpu` take a software
 * adapter (Mesa llvmpipe; for CI). Read apart from parseEnv, like the worker's own environment.
 */
export function parseTrainEnv(source: Record<string, string | undefined> = process.env): {
  allowSoftwareGpu: boolean;
} {
  const result = TrainEnvSchema.safeParse(source);
  if (!result.success) {
    throw new Error(`invalid environment: ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return { allowSoftwareGpu: result.data.CHORUS_WEBGPU_ALLOW_SOFTWARE ?? false };
}

/**
 * The variables that decide colours (colorEnabled: FORCE_COLOR, then NO_COLOR, then a terminal).
 * Read apart from parseEnv, so that a bad CHORUS_* variable never stops a table from printing.
 */
export function readColorEnv(): ColorEnv {
  return { FORCE_COLOR: process.env.FORCE_COLOR, NO_COLOR: process.env.NO_COLOR, TERM: process.env.TERM };
}

/**
 * What `chorus worker` needs to decide whether to read a local coordinator's tokens.json (blank
 * counts as unset). Read apart from parseEnv: the worker validates its own environment.
 */
export function readWorkerTokenEnv(): { token?: string; dataDir?: string } {
  const token = process.env.CHORUS_WORKER_TOKEN?.trim();
  const dataDir = process.env.CHORUS_DATA_DIR?.trim();
  return { ...(token ? { token } : {}), ...(dataDir ? { dataDir } : {}) };
}
