import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { applyMigrations, startEmbeddedPostgres, type EmbeddedPostgres } from '@chorus/db/testing';
import { EMBEDDED_DATABASE_FILE, type EmbeddedDatabaseFile } from '@chorus/protocol';
import { createDatabaseSource } from './database-source';

// `server-only` throws outside a React server bundle; the module under test is otherwise real.
vi.mock('server-only', () => ({}));

const dataDir = mkdtempSync(join(tmpdir(), 'chorus-dashboard-embedded-'));
const descriptor = join(dataDir, EMBEDDED_DATABASE_FILE);
const servers: EmbeddedPostgres[] = [];

/** What the coordinator does on the embedded database: start it, migrate it, write the descriptor. */
async function startLikeCoordinator(port: number): Promise<EmbeddedPostgres> {
  const server = await startEmbeddedPostgres({ dataDir: join(dataDir, 'pgdata'), port });
  servers.push(server);
  await applyMigrations(server.connectionString);
  const file: EmbeddedDatabaseFile = { connectionString: server.connectionString, pid: process.pid };
  writeFileSync(descriptor, JSON.stringify(file) + '\n', { mode: 0o600 });
  return server;
}

/** ... and at shutdown: remove the descriptor, stop the server. */
async function stopLikeCoordinator(server: EmbeddedPostgres): Promise<void> {
  rmSync(descriptor, { force: true });
  await server.close();
}

async function freePortOtherThan(taken: number): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const probe = createServer();
      probe.once('error', reject);
      probe.listen(0, '127.0.0.1', () => {
        const address = probe.address();
        probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    if (port !== taken && port !== 0) return port;
  }
}

afterAll(async () => {
  for (const server of servers) await server.close().catch(() => {});
  rmSync(dataDir, { recursive: true, force: true });
});

describe('dashboard repositories on an embedded database (real PGlite)', () => {
  it('follow the database to its new port after a coordinator restart, without a dashboard restart', async () => {
    const first = await startLikeCoordinator(0);
    process.env['DATABASE_URL'] = first.connectionString;
    process.env['CHORUS_EMBEDDED_DATABASE_FILE'] = descriptor;
    const { repositories } = await import('./repositories');

    const name = `w-${randomUUID().slice(0, 8)}`;
    await repositories().workers.register({
      id: randomUUID(),
      name,
      host: 'box',
      backend: 'wasm',
      device: 'CPU',
      slots: 1,
    });
    expect((await repositories().workers.list()).map((w) => w.name)).toContain(name);

    await stopLikeCoordinator(first);
    // The coordinator is down: reads fail (the dashboard answers 503), and nothing is cached.
    await expect(repositories().workers.list()).rejects.toThrow();

    const second = await startLikeCoordinator(await freePortOtherThan(first.port));
    expect(second.port).not.toBe(first.port);
    await vi.waitFor(
      async () => expect((await repositories().workers.list()).map((w) => w.name)).toContain(name),
      { timeout: 10_000, interval: 100 },
    );
    await stopLikeCoordinator(second);
  });
});

describe('createDatabaseSource', () => {
  it('keeps the current client while the descriptor is missing or half-written, and switches once it is whole', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chorus-descriptor-'));
    const file = join(dir, EMBEDDED_DATABASE_FILE);
    const closed: string[] = [];
    const source = createDatabaseSource({
      databaseUrl: 'postgresql://a:1/x',
      descriptorFile: file,
      connect: (url) => ({ url }),
      disconnect: async (client) => closed.push(client.url),
    });
    try {
      expect(source.current().url).toBe('postgresql://a:1/x');
      writeFileSync(file, '{"connectionString":"postgresql://b:2/');
      expect(source.current().url).toBe('postgresql://a:1/x');
      writeFileSync(file, JSON.stringify({ connectionString: 'postgresql://b:2/x', pid: 1 }));
      expect(source.current().url).toBe('postgresql://b:2/x');
      expect(source.current().url).toBe('postgresql://b:2/x');
      await vi.waitFor(() => expect(closed).toEqual(['postgresql://a:1/x']));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
