import { startEmbeddedPostgres, type RunningDatabase } from './embedded/embedded-postgres';

export interface ResolveDatabaseOptions {
  /** DATABASE_URL, when the user gave one: that server is used as it is. */
  databaseUrl?: string | undefined;
  /** The embedded PGlite's data directory otherwise (the coordinator uses `.chorus/pgdata`). */
  dataDir: string;
  /** Port of the embedded server (default 0: a free one). */
  port?: number;
}

export interface ResolvedDatabase extends RunningDatabase {
  kind: 'external' | 'embedded';
}

/**
 * Which database (ARCHITECTURE.md, "Storage"): with DATABASE_URL, that Postgres server; without
 * it, embedded PGlite on loopback with its data under `dataDir`. close() stops the embedded server
 * (no-op otherwise).
 * Migrations are separate: call applyMigrations(connectionString) next.
 */
export async function resolveDatabase(options: ResolveDatabaseOptions): Promise<ResolvedDatabase> {
  const url = options.databaseUrl?.trim();
  if (url) {
    if (!/^postgres(ql)?:\/\//.test(url)) {
      throw new Error(
        `DATABASE_URL must be a postgresql:// connection string, got "${url.split('@').pop()}"`,
      );
    }
    return { kind: 'external', connectionString: url, close: async () => {} };
  }
  const embedded = await startEmbeddedPostgres({
    dataDir: options.dataDir,
    ...(options.port !== undefined && { port: options.port }),
  });
  return { kind: 'embedded', ...embedded };
}
