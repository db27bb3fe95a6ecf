import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTestDatabase } from '@chorus/db/testing';
import { HTTP_ROUTES } from '@chorus/protocol';
import { startCoordinator, type RunningCoordinator } from './coordinator';
import { startDatabaseProxy, type DatabaseProxy } from './testing/database-proxy';
import { ADMIN_TOKEN, expectEventually, httpClient, WORKER_TOKEN } from './testing/harness';

describe('GET /api/health reports the database', () => {
  // The coordinator reaches its (real) database through a proxy the test breaks.
  const db = withTestDatabase();
  let proxy: DatabaseProxy;
  let coordinator: RunningCoordinator;
  let dataDir: string;
  beforeAll(async () => {
    proxy = await startDatabaseProxy(db.connectionString);
    dataDir = mkdtempSync(join(tmpdir(), 'chorus-health-'));
    coordinator = await startCoordinator({
      port: 0,
      dataDir,
      databaseUrl: proxy.url,
      workerToken: WORKER_TOKEN,
      adminToken: ADMIN_TOKEN,
      logger: pino({ level: 'silent' }),
    });
  });
  afterAll(async () => {
    proxy.set('pass');
    await coordinator?.close();
    await proxy?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const health = async () => {
    const response = await fetch(`${coordinator.url}/api/health`);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it('is ok, with the database round trip, while the database answers', async () => {
    const answer = await httpClient(coordinator).health();
    expect(answer.ok).toBe(true);
    expect(answer.database.ok).toBe(true);
    expect(answer.database.latencyMs).toBeGreaterThanOrEqual(0);
    expect(answer.database.latencyMs).toBeLessThan(2_000);
  });

  it('is 503 `unavailable` while the database hangs, and ok again once it answers', async () => {
    proxy.set('stall');
    const stalled = await health();
    expect(stalled.status).toBe(503);
    expect(HTTP_ROUTES.health.response.safeParse(stalled.body).success).toBe(false);
    expect(stalled.body).toEqual({
      ok: false,
      code: 'unavailable',
      message: 'the database did not answer within 2000 ms',
    });
    proxy.set('pass');
    await expectEventually(async () => expect((await health()).status).toBe(200));
  });

  it("is 503 with the database's reason while it refuses connections", async () => {
    proxy.set('refuse');
    await expectEventually(async () => {
      const refused = await health();
      expect(refused.status).toBe(503);
      expect(refused.body).toMatchObject({ ok: false, code: 'unavailable' });
      expect(refused.body.message).toMatch(/^the database does not answer: ./);
    });
    proxy.set('pass');
    await expectEventually(async () => expect((await health()).body).toMatchObject({ ok: true }));
  });
});
