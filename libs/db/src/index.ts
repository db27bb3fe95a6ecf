// @chorus/db — the only package that talks to Prisma (DESIGN.md, "Storage").
export { createPrismaClient, PrismaClient, Prisma, type PrismaClientOptions } from './client';
export type {
  Checkpoint,
  DiversityEval,
  EnsembleEval,
  Member,
  MetricPoint,
  Prediction,
  Run,
  Worker,
} from './generated/prisma/client';
export { MemberStatus, RunStatus, Split, WorkerStatus } from './generated/prisma/enums';
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
export * from './repositories/index';
export * from './run-views';
