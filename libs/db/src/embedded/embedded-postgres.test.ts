import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, Prisma, type PrismaClient } from '../client';
import { exerciseEveryModel } from '../every-model.test-helper';
import { applyMigrations, readMigrations } from '../migrations';
import { createRepositories } from '../repositories/index';
import { resolveDatabase } from '../resolve-database';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres';
import { PgliteServer } from './pglite-server';
import { parseRunConfig } from '@chorus/protocol';

// One PGlite for the whole file: creating its cluster (initdb in wasm) takes seconds.
const dir = mkdtempSync(join(tmpdir(), 'chorus-embedded-test-'));
const dataDir = join(dir, 'pgdata');
let embedded: EmbeddedPostgres;
let restarted: { close(): Promise<void> } | undefined;
let prisma: PrismaClient;

beforeAll(async () => {
  embedded = await startEmbeddedPostgres({ dataDir, port: 0 });
  prisma = createPrismaClient({ connectionString: embedded.connectionString, maxConnections: 5 });
});
afterAll(async () => {
  await prisma?.$disconnect();
  await (restarted ?? embedded)?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('embedded PGlite (the default without DATABASE_URL)', () => {
  it('listens on loopback only', () => {
    expect(new URL(embedded.connectionString).hostname).toBe('127.0.0.1');
  });

  it('takes the migrations, idempotently', async () => {
    const names = readMigrations().map((m) => m.name);
    expect((await applyMigrations(embedded.connectionString)).applied).toEqual(names);
    expect((await applyMigrations(embedded.connectionString)).alreadyApplied).toEqual(names);
  });

  it('serves every model through the generated client', async () => {
    const covered = await exerciseEveryModel(prisma);
    expect([...covered].sort()).toEqual(Object.values(Prisma.ModelName).sort());
  });

  it('serves a pg pool of several connections at once without mixing their queries', async () => {
    const pool = new pg.Pool({ connectionString: embedded.connectionString, max: 8 });
    pool.on('error', () => {});
    try {
      await pool.query('CREATE TABLE blobs (id int PRIMARY KEY, b bytea)');
      // 2 MB binds arrive in many TCP reads; small parameterised queries run on other connections meanwhile.
      const big = Buffer.alloc(2 << 20, 7);
      let wrong = 0;
      await Promise.all([
        (async () => {
          for (let i = 0; i < 6; i++) await pool.query('INSERT INTO blobs VALUES ($1, $2)', [i, big]);
        })(),
        ...[0, 1, 2, 3].map(async (w) => {
          for (let i = 0; i < 60; i++) {
            const v = w * 1000 + i;
            const sql =
              w % 2 ? 'SELECT $1::int AS v, $2::text AS s' : 'SELECT $2::text AS s, $1::int AS v, 1 AS one';
            const { rows } = await pool.query(sql, [v, `x${v}`]);
            if (rows[0].v !== v || rows[0].s !== `x${v}`) wrong++;
          }
        }),
        // Transactions on their own connections: isolated from the other connections' statements.
        ...[0, 1].map(async (t) => {
          for (let i = 0; i < 5; i++) {
            const client = await pool.connect();
            try {
              await client.query('BEGIN');
              await client.query('INSERT INTO blobs VALUES ($1, $2)', [100 + t * 10 + i, Buffer.from('tx')]);
              await new Promise((resolve) => setTimeout(resolve, 2));
              await client.query(i % 2 ? 'ROLLBACK' : 'COMMIT');
            } finally {
              client.release();
            }
          }
        }),
      ]);
      expect(wrong).toBe(0);
      const { rows } = await pool.query(
        'SELECT count(*)::int AS n, sum(length(b))::bigint AS bytes FROM blobs',
      );
      expect(rows[0].n).toBe(6 + 2 * 3);
      expect(Number(rows[0].bytes)).toBe(6 * (2 << 20) + 6 * 2);
    } finally {
      await pool.end();
    }
  });

  it('rolls back the transaction of a client that disconnects inside it', async () => {
    const a = new pg.Client({ connectionString: embedded.connectionString });
    const b = new pg.Client({ connectionString: embedded.connectionString });
    a.on('error', () => {});
    await a.connect();
    await b.connect();
    await a.query('BEGIN');
    await a.query('INSERT INTO blobs VALUES (999, NULL)');
    const counted = b.query('SELECT count(*)::int AS n FROM blobs WHERE id = 999'); // waits for a's transaction
    (a as unknown as { connection: { stream: net.Socket } }).connection.stream.destroy();
    expect((await counted).rows[0].n).toBe(0);
    await b.end();
  });

  it('leases members to concurrent claimers without duplicates', async () => {
    const repos = createRepositories(prisma);
    const other = createPrismaClient({ connectionString: embedded.connectionString, maxConnections: 3 });
    try {
      const otherRepos = createRepositories(other);
      for (const id of ['a', 'b']) {
        await repos.workers.register({ id, name: id, host: 'h', backend: 'cpu', device: 'cpu', slots: 1 });
      }
      const run = await repos.runs.create({
        name: 'embedded lease',
        config: parseRunConfig({ dataset: 'digits', members: 10 }),
        seed: 1,
        datasetName: 'digits',
        numClasses: 10,
        members: Array.from({ length: 10 }, () => ({})),
      });
      const claimed: string[] = [];
      const claim = async (members: typeof repos.members, workerId: string) => {
        for (;;) {
          const m = await members.claimNext({ workerId, leaseMs: 60_000, runIds: [run.id] });
          if (!m) return;
          claimed.push(m.id);
        }
      };
      await Promise.all([
        claim(repos.members, 'a'),
        claim(otherRepos.members, 'b'),
        claim(repos.members, 'a'),
      ]);
      expect(new Set(claimed).size).toBe(10);
      expect(claimed).toHaveLength(10);
    } finally {
      await other.$disconnect();
    }
  });

  it('refuses connections beyond maxConnections with a Postgres error', async () => {
    const server = new PgliteServer({ db: embedded.pglite, maxConnections: 1 });
    const { port } = await server.start();
    const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
    try {
      const first = new pg.Client({ connectionString: url });
      await first.connect();
      const second = new pg.Client({ connectionString: url });
      second.on('error', () => {});
      await expect(second.connect()).rejects.toThrow(/too many connections/);
      expect(server.connectionCount).toBe(1);
      await first.end();
    } finally {
      await server.stop();
    }
  });

  it('closes a connection that idles inside a transaction, so the others are not stalled', async () => {
    const server = new PgliteServer({ db: embedded.pglite, idleInTransactionTimeoutMs: 300 });
    const { port } = await server.start();
    const url = `postgresql://postgres@127.0.0.1:${port}/postgres`;
    const stuck = new pg.Client({ connectionString: url });
    const other = new pg.Client({ connectionString: url });
    stuck.on('error', () => {});
    try {
      await stuck.connect();
      await other.connect();
      await stuck.query('BEGIN');
      await stuck.query('INSERT INTO blobs VALUES (4242, NULL)');
      const { rows } = await other.query('SELECT count(*)::int AS n FROM blobs WHERE id = 4242');
      expect(rows[0].n).toBe(0);
      await expect(stuck.query('COMMIT')).rejects.toThrow();
    } finally {
      await other.end();
      await server.stop();
    }
  });

  it('keeps a second process off the same data, then persists across a restart', async () => {
    await expect(startEmbeddedPostgres({ dataDir })).rejects.toThrow(/in use by process/);
    await prisma.$disconnect();
    await embedded.close();

    const resolved = await resolveDatabase({ dataDir });
    restarted = resolved;
    expect(resolved.kind).toBe('embedded');
    prisma = createPrismaClient({ connectionString: resolved.connectionString });
    expect((await applyMigrations(resolved.connectionString)).applied).toEqual([]);
    expect(await prisma.run.count({ where: { name: 'embedded lease' } })).toBe(1);
  });
});

describe('resolveDatabase', () => {
  it('uses DATABASE_URL as it is when given', async () => {
    const url = 'postgresql://chorus@db.example:5432/chorus';
    const resolved = await resolveDatabase({ databaseUrl: url, dataDir: join(dir, 'unused') });
    expect(resolved).toMatchObject({ kind: 'external', connectionString: url });
    await resolved.close();
    await expect(resolveDatabase({ databaseUrl: 'mysql://x', dataDir })).rejects.toThrow(/postgresql:\/\//);
  });
});
