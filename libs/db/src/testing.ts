/**
 * Real databases for tests (never mocks). Import from `@chorus/db/testing`.
 *
 * createTestDatabase() picks a server, then creates a fresh database on it for the caller and
 * drops it afterwards:
 *   1. DATABASE_URL when set (the role needs CREATEDB);
 *   2. else a server on 127.0.0.1:5432 (user postgres, trust auth) if one answers;
 *   3. else a throwaway server from the installed PostgreSQL binaries (startThrowawayPostgres).
 * createEmbeddedTestDatabase() gives an embedded PGlite database instead (the no-DATABASE_URL default).
 * withTestDatabase() / withEmbeddedTestDatabase() wrap them in vitest hooks with a Prisma client.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { createPrismaClient, type PrismaClient } from './client';
import { startEmbeddedPostgres } from './embedded/embedded-postgres';
import { readDbTestEnv } from './env';
import { applyMigrations } from './migrations';
import { startThrowawayPostgres } from './throwaway-postgres';

/** For tests that stop and restart the embedded server on one data dir, as a coordinator restart does. */
export { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded/embedded-postgres';
export { applyMigrations } from './migrations';

export const LOCAL_SERVER_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';

export type TestDatabaseSource = 'DATABASE_URL' | 'local-server' | 'throwaway' | 'embedded';

export interface TestDatabase {
  connectionString: string;
  source: TestDatabaseSource;
  /** Drops the database (and stops the server when it was started for it). */
  drop(): Promise<void>;
}

export interface TestDatabaseOptions {
  /** Apply prisma/migrations (default true). */
  migrate?: boolean;
  /** Overrides DATABASE_URL; null ignores it. */
  databaseUrl?: string | null;
  /** The server probed when there is no DATABASE_URL (default 127.0.0.1:5432, user postgres). */
  localServerUrl?: string;
}

export async function createTestDatabase(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const url = options.databaseUrl === null ? undefined : (options.databaseUrl ?? readDbTestEnv().databaseUrl);
  const localServerUrl = options.localServerUrl ?? LOCAL_SERVER_URL;
  let database: TestDatabase;
  if (url) {
    database = await createDatabaseOn(url, 'DATABASE_URL');
  } else if (await answers(localServerUrl)) {
    database = await createDatabaseOn(localServerUrl, 'local-server');
  } else {
    const server = await startThrowawayPostgres();
    try {
      const inner = await createDatabaseOn(server.connectionString, 'throwaway');
      database = { ...inner, drop: () => server.close() };
    } catch (error) {
      await server.close();
      throw error;
    }
  }
  return migrateOrDrop(database, options.migrate ?? true);
}

/** An embedded PGlite database in a temporary directory, served on a free loopback port. */
export async function createEmbeddedTestDatabase(options: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'chorus-pglite-'));
  try {
    const embedded = await startEmbeddedPostgres({ dataDir: join(dir, 'pgdata') });
    return await migrateOrDrop(
      {
        connectionString: embedded.connectionString,
        source: 'embedded',
        drop: async () => {
          await embedded.close();
          rmSync(dir, { recursive: true, force: true });
        },
      },
      options.migrate ?? true,
    );
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

export interface TestDatabaseHandle {
  readonly database: TestDatabase;
  readonly connectionString: string;
  readonly prisma: PrismaClient;
}

/** A migrated test database and a Prisma client for the tests of one file (vitest hooks). */
export function withTestDatabase(options: TestDatabaseOptions = {}): TestDatabaseHandle {
  return withDatabase(() => createTestDatabase(options));
}

/** The same on an embedded PGlite database. */
export function withEmbeddedTestDatabase(options: { migrate?: boolean } = {}): TestDatabaseHandle {
  return withDatabase(() => createEmbeddedTestDatabase(options));
}

function withDatabase(create: () => Promise<TestDatabase>): TestDatabaseHandle {
  let database: TestDatabase | undefined;
  let prisma: PrismaClient | undefined;
  beforeAll(async () => {
    database = await create();
    prisma = createPrismaClient({ connectionString: database.connectionString, maxConnections: 5 });
  });
  afterAll(async () => {
    await prisma?.$disconnect();
    await database?.drop();
  });
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined)
      throw new Error('the test database is created in beforeAll: use it inside tests');
    return value;
  };
  return {
    get database() {
      return ready(database);
    },
    get connectionString() {
      return ready(database).connectionString;
    },
    get prisma() {
      return ready(prisma);
    },
  };
}

async function migrateOrDrop(database: TestDatabase, migrate: boolean): Promise<TestDatabase> {
  if (!migrate) return database;
  try {
    await applyMigrations(database.connectionString);
    return database;
  } catch (error) {
    await database.drop();
    throw error;
  }
}

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

async function withAdmin<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** CREATE DATABASE chorus_test_<pid>_<random> on the server of `url`; drop() removes it (WITH FORCE). */
async function createDatabaseOn(url: string, source: TestDatabaseSource): Promise<TestDatabase> {
  const name = `chorus_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await withAdmin(url, (client) => client.query(`CREATE DATABASE "${name}"`));
  const target = new URL(url);
  target.pathname = `/${name}`;
  return {
    connectionString: target.toString(),
    source,
    drop: () =>
      withAdmin(url, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(
        () => {},
      ),
  };
}
