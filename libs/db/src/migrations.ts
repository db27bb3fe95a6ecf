import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

/** prisma/migrations of this repository (libs/db/src → repo root). */
export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('../../../prisma/migrations', import.meta.url));

/**
 * The advisory lock key Prisma Migrate takes on Postgres: `applyMigrations` and
 * `prisma migrate deploy` exclude each other.
 */
export const PRISMA_MIGRATE_LOCK_KEY = 72707369;

/** `_prisma_migrations` exactly as Prisma's schema engine creates it on Postgres. */
const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

export interface Migration {
  /** The folder name, e.g. `20261129173226_init`; migrations apply in this order. */
  name: string;
  /** The contents of migration.sql. */
  script: string;
  /** sha256 (hex) of migration.sql's bytes — what Prisma stores in `_prisma_migrations.checksum`. */
  checksum: string;
}

export interface ApplyMigrationsOptions {
  migrationsDir?: string;
  /** Receives a line per applied migration and per warning. */
  log?: (message: string) => void;
}

export interface ApplyMigrationsResult {
  /** Migrations applied by this call, in order. */
  applied: string[];
  /** Migrations that were already applied. */
  alreadyApplied: string[];
  /** Applied migrations whose migration.sql has changed since (Prisma warns about these too). */
  modified: string[];
}

/** Reads `<dir>/<name>/migration.sql` for every migration folder, sorted by name as Prisma does. */
export function readMigrations(migrationsDir: string = DEFAULT_MIGRATIONS_DIR): Migration[] {
  const lockFile = join(migrationsDir, 'migration_lock.toml');
  if (existsSync(lockFile)) {
    const provider = /^\s*provider\s*=\s*"([^"]+)"/m.exec(readFileSync(lockFile, 'utf8'))?.[1];
    if (provider !== undefined && provider !== 'postgresql') {
      throw new Error(`${lockFile} is for provider "${provider}", but Chorus migrations run on postgresql`);
    }
  }
  return readdirSync(migrationsDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(migrationsDir, entry.name, 'migration.sql')))
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const bytes = readFileSync(join(migrationsDir, name, 'migration.sql'));
      return {
        name,
        script: bytes.toString('utf8'),
        checksum: createHash('sha256').update(bytes).digest('hex'),
      };
    });
}

interface MigrationRow {
  id: string;
  checksum: string;
  migration_name: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
  logs: string | null;
}

/**
 * Applies the committed Prisma migrations that the database has not seen, the way
 * `prisma migrate deploy` does, so either tool can take over from the other:
 * under Prisma's advisory lock, each pending migration gets a `_prisma_migrations` row
 * (uuid, sha256 checksum, started_at), its script runs as one simple-protocol query (one implicit
 * transaction), then `applied_steps_count` becomes 1 and `finished_at` is set. A migration that
 * failed earlier (row with neither finished_at nor rolled_back_at) stops everything, as in Prisma
 * (P3009): resolve it first. Idempotent: a second call applies nothing.
 *
 * Takes a connection string, or a connected pg client / pool client (left connected).
 */
export async function applyMigrations(
  target: string | pg.ClientBase,
  options: ApplyMigrationsOptions = {},
): Promise<ApplyMigrationsResult> {
  const migrations = readMigrations(options.migrationsDir);
  const log = options.log ?? (() => {});
  if (typeof target !== 'string') return applyWith(target, migrations, log);

  // The advisory lock excludes other sessions; PGlite has only one session, shared by all its
  // connections, so calls in this process on the same database also queue here.
  const previous = inProcess.get(target) ?? Promise.resolve();
  const run = previous
    .catch(() => {})
    .then(async () => {
      const client = new pg.Client({ connectionString: target });
      client.on('error', () => {}); // a dropped connection surfaces as the failing query's error
      await client.connect();
      try {
        return await applyWith(client, migrations, log);
      } finally {
        await client.end().catch(() => {});
      }
    });
  inProcess.set(target, run);
  try {
    return await run;
  } finally {
    if (inProcess.get(target) === run) inProcess.delete(target);
  }
}

const inProcess = new Map<string, Promise<unknown>>();

async function applyWith(
  client: pg.ClientBase,
  migrations: Migration[],
  log: (message: string) => void,
): Promise<ApplyMigrationsResult> {
  const result: ApplyMigrationsResult = { applied: [], alreadyApplied: [], modified: [] };
  await client.query('SELECT pg_advisory_lock($1)', [PRISMA_MIGRATE_LOCK_KEY]);
  try {
    await client.query(CREATE_MIGRATIONS_TABLE);
    const { rows } = await client.query<MigrationRow>(
      `SELECT "id", "checksum", "migration_name", "finished_at", "rolled_back_at", "logs"
         FROM "_prisma_migrations" ORDER BY "started_at" ASC`,
    );
    const failed = rows.find((row) => row.finished_at === null && row.rolled_back_at === null);
    if (failed) {
      throw new Error(
        `migration ${failed.migration_name} failed earlier and was not rolled back, so no further ` +
          `migrations are applied (Prisma P3009). Fix the database, then mark it with ` +
          `\`prisma migrate resolve --rolled-back ${failed.migration_name}\` or ` +
          `\`--applied ${failed.migration_name}\`. Its log: ${failed.logs ?? '(none)'}`,
      );
    }
    const done = new Map<string, string>();
    for (const row of rows) {
      if (row.finished_at !== null && row.rolled_back_at === null) done.set(row.migration_name, row.checksum);
    }
    for (const row of rows) {
      if (!migrations.some((m) => m.name === row.migration_name) && done.has(row.migration_name)) {
        log(`warning: migration ${row.migration_name} is applied in the database but missing locally`);
      }
    }

    for (const migration of migrations) {
      const checksum = done.get(migration.name);
      if (checksum !== undefined) {
        result.alreadyApplied.push(migration.name);
        if (checksum !== migration.checksum) {
          result.modified.push(migration.name);
          log(`warning: migration ${migration.name} was modified after it was applied`);
        }
        continue;
      }
      const id = randomUUID();
      await client.query(
        `INSERT INTO "_prisma_migrations" ("id", "checksum", "migration_name", "started_at", "applied_steps_count")
         VALUES ($1, $2, $3, now(), 0)`,
        [id, migration.checksum, migration.name],
      );
      try {
        await client.query(migration.script);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        await client
          .query(`UPDATE "_prisma_migrations" SET "logs" = $2 WHERE "id" = $1`, [id, message])
          .catch(() => {});
        throw new Error(`migration ${migration.name} failed: ${message}`, { cause: error });
      }
      await client.query(
        `UPDATE "_prisma_migrations"
            SET "applied_steps_count" = "applied_steps_count" + 1, "finished_at" = now()
          WHERE "id" = $1`,
        [id],
      );
      result.applied.push(migration.name);
      log(`applied migration ${migration.name}`);
    }
    return result;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_MIGRATE_LOCK_KEY]).catch(() => {});
  }
}
