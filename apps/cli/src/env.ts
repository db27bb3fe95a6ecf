import { z } from 'zod';

/** The CLI's environment: fallbacks for flags that carry secrets or addresses. */
const EnvSchema = z.object({
  CHORUS_COORDINATOR_URL: z.string().url().optional(),
  CHORUS_ADMIN_TOKEN: z.string().min(1).optional(),
  /** Only looked at by `chorus worker`, to know whether to read the local tokens.json; the worker parses it. */
  CHORUS_WORKER_TOKEN: z.string().optional(),
  CHORUS_DATA_DIR: z.string().min(1).optional(),
  DATABASE_URL: z.string().min(1).optional(),
  // Colours (colorEnabled in @chorus/terminal): FORCE_COLOR wins, then NO_COLOR, then a terminal.
  FORCE_COLOR: z.string().optional(),
  NO_COLOR: z.string().optional(),
  TERM: z.string().optional(),
});
export type CliEnv = z.infer<typeof EnvSchema>;

export function parseEnv(source: Record<string, string | undefined> = process.env): CliEnv {
  const result = EnvSchema.safeParse(source);
  if (!result.success) {
    throw new Error(`invalid environment: ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return result.data;
}

/** The environment for a child process: this one's, plus `extra` (e.g. a token that must not go in argv). */
export function childProcessEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { ...process.env, ...extra };
}
