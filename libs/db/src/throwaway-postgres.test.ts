import { existsSync } from 'node:fs';
import net from 'node:net';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createTestDatabase } from './testing';
import { startThrowawayPostgres } from './throwaway-postgres';

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

describe('startThrowawayPostgres', () => {
  it('starts a private server on a free loopback port and removes every trace on close', async () => {
    const server = await startThrowawayPostgres();
    try {
      expect(new URL(server.connectionString).hostname).toBe('127.0.0.1');
      expect(existsSync(server.dir)).toBe(true);
      const client = new pg.Client({ connectionString: server.connectionString });
      client.on('error', () => {});
      await client.connect();
      const { rows } = await client.query<{ v: string }>("SELECT current_setting('server_version') AS v");
      expect(rows[0]?.v).toMatch(/^\d+/);
      await client.end();

      // The DATABASE_URL path of the test helper: a fresh, migrated database on that server, dropped after.
      const db = await createTestDatabase({ databaseUrl: server.connectionString });
      expect(db.source).toBe('DATABASE_URL');
      const name = new URL(db.connectionString).pathname.slice(1);
      expect(name).toMatch(/^chorus_test_/);
      const check = new pg.Client({ connectionString: db.connectionString });
      await check.connect();
      expect(
        (await check.query('SELECT count(*)::int AS n FROM "_prisma_migrations"')).rows[0].n,
      ).toBeGreaterThan(0);
      await check.end();
      await db.drop();
      const admin = new pg.Client({ connectionString: server.connectionString });
      await admin.connect();
      expect((await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount).toBe(0);
      await admin.end();
    } finally {
      await server.close();
    }
    expect(existsSync(server.dir)).toBe(false);
    expect(await portAnswers(server.port)).toBe(false);
  });
});

describe('createTestDatabase', () => {
  it('falls back to a throwaway server when there is no DATABASE_URL and no local server', async () => {
    const db = await createTestDatabase({
      databaseUrl: null,
      localServerUrl: 'postgresql://postgres@127.0.0.1:1/postgres',
    });
    try {
      expect(db.source).toBe('throwaway');
      const client = new pg.Client({ connectionString: db.connectionString });
      await client.connect();
      expect((await client.query('SELECT count(*)::int AS n FROM "Run"')).rows[0].n).toBe(0);
      await client.end();
    } finally {
      await db.drop();
    }
  });
});
