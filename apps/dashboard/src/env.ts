import { z } from 'zod';

/**
 * The dashboard server's environment. It reads Postgres directly (server components) and talks
 * to the coordinator for control actions; the browser gets the coordinator's URL for socket.io.
 * A private CA of the coordinator is trusted through Node's NODE_EXTRA_CA_CERTS (read by Node at
 * start; `chorus dashboard --ca` sets it).
 */
const EnvSchema = z.object({
  DATABASE_URL: z
    .string({
      message: 'DATABASE_URL is required: the Postgres the coordinator uses (chorus dashboard sets it)',
    })
    .regex(/^postgres(ql)?:\/\//, 'DATABASE_URL must be a postgresql:// URL'),
  /**
   * The coordinator's `embedded-database.json` when DATABASE_URL is its embedded database: re-read
   * when it changes, so a coordinator restart (new port) is followed (server/database-source.ts).
   */
  CHORUS_EMBEDDED_DATABASE_FILE: z.string().min(1).optional(),
  /** The coordinator as the dashboard server reaches it (control actions are forwarded there). */
  CHORUS_COORDINATOR_URL: z.string().url().default('http://127.0.0.1:4000'),
  /** The coordinator as browsers reach it (socket.io); defaults to CHORUS_COORDINATOR_URL. */
  CHORUS_PUBLIC_COORDINATOR_URL: z.string().url().optional(),
  /**
   * The coordinator's viewer token: this server reads with it and signs the browsers' socket
   * tickets with a key derived from it (app/api/socket-ticket). Never sent to a browser. Unset:
   * reads without a token (a coordinator on loopback without --require-auth takes them).
   */
  CHORUS_VIEWER_TOKEN: z.string().min(16, 'CHORUS_VIEWER_TOKEN must be at least 16 characters').optional(),
});

export interface DashboardEnv {
  databaseUrl: string;
  embeddedDatabaseFile?: string;
  coordinatorUrl: string;
  publicCoordinatorUrl: string;
  viewerToken?: string;
}

export function parseEnv(source: Record<string, string | undefined> = process.env): DashboardEnv {
  const result = EnvSchema.safeParse(source);
  if (!result.success) {
    throw new Error(
      `invalid dashboard environment: ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  const coordinatorUrl = result.data.CHORUS_COORDINATOR_URL.replace(/\/+$/, '');
  return {
    databaseUrl: result.data.DATABASE_URL,
    ...(result.data.CHORUS_EMBEDDED_DATABASE_FILE !== undefined && {
      embeddedDatabaseFile: result.data.CHORUS_EMBEDDED_DATABASE_FILE,
    }),
    coordinatorUrl,
    publicCoordinatorUrl: (result.data.CHORUS_PUBLIC_COORDINATOR_URL ?? coordinatorUrl).replace(/\/+$/, ''),
    ...(result.data.CHORUS_VIEWER_TOKEN !== undefined && { viewerToken: result.data.CHORUS_VIEWER_TOKEN }),
  };
}
