import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, Prisma } from './client';
import { exerciseEveryModel } from './every-model.test-helper';
import { applyMigrations, DEFAULT_MIGRATIONS_DIR, readMigrations } from './migrations';
import { createTestDatabase, type TestDatabase } from './testing';

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('applyMigrations on a fresh database', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
  });
  afterAll(() => db?.drop());

  it('applies every committed migration, then nothing the second time', async () => {
    const names = readMigrations().map((m) => m.name);
    expect(names.length).toBeGreaterThan(0);
    const first = await applyMigrations(db.connectionString);
    expect(first).toEqual({ applied: names, alreadyApplied: [], modified: [] });
    const second = await applyMigrations(db.connectionString);
    expect(second).toEqual({ applied: [], alreadyApplied: names, modified: [] });
    const rows = await query<{ n: string }>(
      db.connectionString,
      'SELECT count(*) AS n FROM "_prisma_migrations"',
    );
    expect(Number(rows[0]?.n)).toBe(names.length);
  });

  it('records _prisma_migrations exactly as prisma migrate deploy does', async () => {
    // Column by column what Prisma's schema engine creates (checked against `prisma migrate deploy` 6.19).
    const columns = await query(
      db.connectionString,
      `SELECT column_name, data_type, character_maximum_length AS len, is_nullable, column_default
         FROM information_schema.columns WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
    );
    expect(columns).toEqual([
      { column_name: 'id', data_type: 'character varying', len: 36, is_nullable: 'NO', column_default: null },
      {
        column_name: 'checksum',
        data_type: 'character varying',
        len: 64,
        is_nullable: 'NO',
        column_default: null,
      },
      {
        column_name: 'finished_at',
        data_type: 'timestamp with time zone',
        len: null,
        is_nullable: 'YES',
        column_default: null,
      },
      {
        column_name: 'migration_name',
        data_type: 'character varying',
        len: 255,
        is_nullable: 'NO',
        column_default: null,
      },
      { column_name: 'logs', data_type: 'text', len: null, is_nullable: 'YES', column_default: null },
      {
        column_name: 'rolled_back_at',
        data_type: 'timestamp with time zone',
        len: null,
        is_nullable: 'YES',
        column_default: null,
      },
      {
        column_name: 'started_at',
        data_type: 'timestamp with time zone',
        len: null,
        is_nullable: 'NO',
        column_default: 'now()',
      },
      {
        column_name: 'applied_steps_count',
        data_type: 'integer',
        len: null,
        is_nullable: 'NO',
        column_default: '0',
      },
    ]);
    const pk = await query(
      db.connectionString,
      `SELECT conname FROM pg_constraint WHERE conrelid = '"_prisma_migrations"'::regclass AND contype = 'p'`,
    );
    expect(pk).toEqual([{ conname: '_prisma_migrations_pkey' }]);

    const rows = await query<{
      id: string;
      checksum: string;
      migration_name: string;
      logs: string | null;
      rolled_back_at: Date | null;
      started_at: Date;
      finished_at: Date | null;
      applied_steps_count: number;
    }>(db.connectionString, 'SELECT * FROM "_prisma_migrations" ORDER BY migration_name');
    for (const [i, migration] of readMigrations().entries()) {
      const row = rows[i];
      const file = readFileSync(join(DEFAULT_MIGRATIONS_DIR, migration.name, 'migration.sql'));
      expect(row).toMatchObject({
        migration_name: migration.name,
        checksum: createHash('sha256').update(file).digest('hex'),
        logs: null,
        rolled_back_at: null,
        applied_steps_count: 1,
      });
      expect(row?.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(row?.finished_at).toBeInstanceOf(Date);
      expect(row!.finished_at!.getTime()).toBeGreaterThanOrEqual(row!.started_at.getTime());
    }
  });

  it('leaves a database on which the generated client serves every model', async () => {
    const prisma = createPrismaClient({ connectionString: db.connectionString, maxConnections: 2 });
    try {
      const covered = await exerciseEveryModel(prisma);
      expect([...covered].sort()).toEqual(Object.values(Prisma.ModelName).sort());
    } finally {
      await prisma.$disconnect();
    }
  });
});

describe('applyMigrations under contention and failure', () => {
  let db: TestDatabase;
  let dir: string;
  beforeAll(async () => {
    db = await createTestDatabase({ migrate: false });
    dir = mkdtempSync(join(tmpdir(), 'chorus-migrations-'));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await db?.drop();
  });

  it('applies each migration once when several processes start at the same time', async () => {
    const results = await Promise.all([1, 2, 3].map(() => applyMigrations(db.connectionString)));
    const applied = results.flatMap((r) => r.applied);
    expect(applied).toEqual(readMigrations().map((m) => m.name));
    const rows = await query<{ migration_name: string }>(
      db.connectionString,
      'SELECT migration_name FROM "_prisma_migrations"',
    );
    expect(rows).toHaveLength(applied.length);
  });

  it('stops at a failed migration and refuses to go on until it is resolved, like Prisma', async () => {
    cpSync(DEFAULT_MIGRATIONS_DIR, dir, { recursive: true });
    mkdirSync(join(dir, '29990101000000_broken'));
    writeFileSync(
      join(dir, '29990101000000_broken', 'migration.sql'),
      'CREATE TABLE "Ok" (id int);\nSELECT nope FROM nowhere;\n',
    );
    await expect(applyMigrations(db.connectionString, { migrationsDir: dir })).rejects.toThrow(
      /29990101000000_broken failed/,
    );
    const [row] = await query<{ finished_at: Date | null; logs: string | null; applied_steps_count: number }>(
      db.connectionString,
      `SELECT finished_at, logs, applied_steps_count FROM "_prisma_migrations" WHERE migration_name = '29990101000000_broken'`,
    );
    expect(row).toMatchObject({ finished_at: null, applied_steps_count: 0 });
    expect(row?.logs).toMatch(/nowhere/);
    // The script ran as one implicit transaction: its first statement did not stay behind.
    expect(await query(db.connectionString, `SELECT to_regclass('"Ok"') AS t`)).toEqual([{ t: null }]);
    await expect(applyMigrations(db.connectionString, { migrationsDir: dir })).rejects.toThrow(/P3009/);

    // `prisma migrate resolve --rolled-back` sets rolled_back_at; the fixed migration then applies.
    await query(
      db.connectionString,
      `UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE finished_at IS NULL`,
    );
    writeFileSync(join(dir, '29990101000000_broken', 'migration.sql'), 'CREATE TABLE "Ok" (id int);\n');
    const result = await applyMigrations(db.connectionString, { migrationsDir: dir });
    expect(result.applied).toEqual(['29990101000000_broken']);
  });

  it('reports an applied migration whose file changed since', async () => {
    const file = join(dir, '29990101000000_broken', 'migration.sql');
    writeFileSync(file, 'CREATE TABLE "Ok" (id int); -- edited\n');
    const warnings: string[] = [];
    const result = await applyMigrations(db.connectionString, {
      migrationsDir: dir,
      log: (m) => warnings.push(m),
    });
    expect(result.modified).toEqual(['29990101000000_broken']);
    expect(warnings.join('\n')).toMatch(/modified after it was applied/);
  });
});
