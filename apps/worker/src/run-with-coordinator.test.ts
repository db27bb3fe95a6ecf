import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCoordinator, type RunningCoordinator } from '@chorus/coordinator';
import { createPrismaClient } from '@chorus/db';
import { createTestDatabase, type TestDatabase } from '@chorus/db/testing';
import { createHttpClient, type RunDetail } from '@chorus/protocol';
import { expectEventually } from './test-server';
import { startWorker, type WorkerHandle } from './worker';

/**
 * The worker in-process against a real coordinator on a real Postgres database: a tiny synthetic
 * run from POST /api/runs to a completed run with its result.
 */

const WORKER_TOKEN = 'worker-token-for-worker-tests-0123456789';
const ADMIN_TOKEN = 'admin-token-for-worker-tests-0123456789';
const logger = pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' });

let database: TestDatabase;
let coordinator: RunningCoordinator;
let worker: WorkerHandle | undefined;
let dataDir: string;
let cacheDir: string;

beforeAll(async () => {
  database = await createTestDatabase();
  dataDir = await mkdtemp(join(tmpdir(), 'chorus-worker-coord-'));
  cacheDir = await mkdtemp(join(tmpdir(), 'chorus-worker-cache-'));
  coordinator = await startCoordinator({
    host: '127.0.0.1',
    port: 0,
    dataDir,
    databaseUrl: database.connectionString,
    workerToken: WORKER_TOKEN,
    adminToken: ADMIN_TOKEN,
    // Shorter than the worker's default heartbeat (5 s): the worker must fit its beats to the lease.
    leaseMs: 1_500,
    logger: logger.child({ app: 'coordinator' }),
  });
});

afterAll(async () => {
  await worker?.close();
  await coordinator?.close();
  await database?.drop();
  await rm(dataDir, { recursive: true, force: true });
  await rm(cacheDir, { recursive: true, force: true });
});

describe('worker with a real coordinator', () => {
  it('completes a tiny synthetic run', async () => {
    worker = await startWorker({
      coordinatorUrl: coordinator.url,
      token: WORKER_TOKEN,
      backend: 'cpu',
      slots: 2,
      name: 'test-worker',
      cacheDir,
      logger: logger.child({ app: 'worker' }),
    });
    const client = createHttpClient({ baseUrl: coordinator.url, token: ADMIN_TOKEN });
    const { id } = await client.createRun({
      body: {
        dataset: 'synthetic',
        model: 'mlp',
        members: 2,
        epochs: 4,
        batchSize: 4,
        trainLimit: 400,
        seed: 4,
      },
    });

    let run: RunDetail | undefined;
    await expectEventually(async () => {
      run = await client.getRun({ params: { id } });
      expect(['completed', 'failed', 'cancelled']).toContain(run.status);
    }, 120_000);
    expect(run?.status, run?.error ?? undefined).toBe('completed');
    expect(run?.result).not.toBeNull();
    expect(run?.members.map((m) => m.status)).toEqual(['completed', 'completed']);
    expect(run?.members.every((m) => m.attempt === 1 && typeof m.testAccuracy === 'number')).toBe(true);
    // The dataset bundle is in the worker's cache, under its content address.
    expect(await readdir(join(cacheDir, 'datasets'))).toEqual([
      expect.stringMatching(/^[0-9a-f]{64}\.bundle$/),
    ]);
  });

  it('uploads its checkpoints over HTTP beyond the socket limit, and they are stored as files', async () => {
    await worker?.close();
    worker = await startWorker({
      coordinatorUrl: coordinator.url,
      token: WORKER_TOKEN,
      backend: 'cpu',
      name: 'uploading-worker',
      cacheDir,
      // Every checkpoint is beyond 1 byte: all go by PUT /api/checkpoints/….
      checkpointSocketMaxBytes: 1,
      logger: logger.child({ app: 'worker' }),
    });
    const client = createHttpClient({ baseUrl: coordinator.url, token: ADMIN_TOKEN });
    const { id } = await client.createRun({
      body: {
        dataset: 'synthetic',
        model: 'mlp',
        members: 1,
        epochs: 3,
        batchSize: 8,
        trainLimit: 200,
        seed: 6,
      },
    });
    let run: RunDetail | undefined;
    await expectEventually(async () => {
      run = await client.getRun({ params: { id } });
      expect(['completed', 'failed', 'cancelled']).toContain(run.status);
    }, 120_000);
    expect(run?.status, run?.error ?? undefined).toBe('completed');
    const memberId = run?.members[0]?.id ?? '';
    // The newest two of its three checkpoints, each a file named by epoch and sha256, no bytes in the row.
    const prisma = createPrismaClient({ connectionString: database.connectionString });
    const rows = await prisma.checkpoint
      .findMany({ where: { memberId }, orderBy: { epoch: 'asc' } })
      .finally(() => prisma.$disconnect());
    expect(rows.map((r) => [r.epoch, r.weights, r.file])).toEqual([
      [1, null, `${memberId}/1-${rows[0]?.sha256}.chck`],
      [2, null, `${memberId}/2-${rows[1]?.sha256}.chck`],
    ]);
    expect((await readdir(join(dataDir, 'checkpoints', memberId))).sort()).toEqual(
      rows.map((r) => `${r.epoch}-${r.sha256}.chck`),
    );
  });
});
