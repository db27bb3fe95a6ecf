// @chorus/db — the only package that talks to Prisma (ARCHITECTURE.md, "Storage").
// The client, the repositories and the run views (what @chorus/db/client exports), plus what needs
// the file system or PGlite: migrations, the embedded and throwaway servers.
export * from './client-only';
export {
  applyMigrations,
  readMigrations,
  DEFAULT_MIGRATIONS_DIR,
  PRISMA_MIGRATE_LOCK_KEY,
  type ApplyMigrationsOptions,
  type ApplyMigrationsResult,
  type Migration,
} from './migrations';
export {
  startEmbeddedPostgres,
  type EmbeddedPostgresOptions,
  type RunningDatabase,
} from './embedded/embedded-postgres';
export { PgliteServer, type PgliteServerOptions } from './embedded/pglite-server';
export {
  startThrowawayPostgres,
  findPostgresBinDir,
  type ThrowawayPostgres,
  type ThrowawayPostgresOptions,
} from './throwaway-postgres';
export { resolveDatabase, type ResolveDatabaseOptions, type ResolvedDatabase } from './resolve-database';
