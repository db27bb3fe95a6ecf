import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCoordinator, type RunningCoordinator } from '@chorus/coordinator';
import { createTestDatabase, type TestDatabase } from '@chorus/db/testing';
import {
  CHORUS_VERSION,
  createHttpClient,
  PROTOCOL_VERSION,
  WORKERS_NAMESPACE,
  type RunDetail,
} from '@chorus/protocol';
import { expectEventually } from './test-server';
import { startWorker, type WorkerHandle } from './worker';

/**
 * A flooding client on the `/workers` namespace (a worker token, a handshake, then `plan:next` as
 * fast as it can) beside an honest worker on the same coordinator: the flood is answered
 * `rate-limited` beyond its budget, its own heartbeats still pass, and the honest worker keeps its
 * leases and finishes its run.
 */

const WORKER_TOKEN = 'worker-token-for-rate-limit-tests-0123';
const ADMIN_TOKEN = 'admin-token-for-rate-limit-tests-0123';
const logger = pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'silent' });

let database: TestDatabase;
let coordinator: RunningCoordinator;
let worker: WorkerHandle | undefined;
let flooder: Socket | undefined;
let dataDir: string;
let cacheDir: string;

beforeAll(async () => {
  database = await createTestDatabase();
  dataDir = await mkdtemp(join(tmpdir(), 'chorus-rate-coord-'));
  cacheDir = await mkdtemp(join(tmpdir(), 'chorus-rate-cache-'));
  coordinator = await startCoordinator({
    host: '127.0.0.1',
    port: 0,
    dataDir,
    databaseUrl: database.connectionString,
    workerToken: WORKER_TOKEN,
    adminToken: ADMIN_TOKEN,
    // The e2e tests' lease: the flood shares the coordinator's thread on a busy 2-core machine.
    leaseMs: 10_000,
    logger: logger.child({ app: 'coordinator' }),
  });
});

afterAll(async () => {
  flooder?.close();
  await worker?.close();
  await coordinator?.close();
  await database?.drop();
  await rm(dataDir, { recursive: true, force: true });
  await rm(cacheDir, { recursive: true, force: true });
});

type Answer = { ok: true } | { ok: false; code: string };

describe('a flooding client', () => {
  it('is answered rate-limited while an honest worker keeps its leases and finishes', async () => {
    worker = await startWorker({
      coordinatorUrl: coordinator.url,
      token: WORKER_TOKEN,
      backend: 'cpu',
      name: 'honest',
      cacheDir,
      logger: logger.child({ app: 'worker' }),
    });
    const socket = io(`${coordinator.url}${WORKERS_NAMESPACE}`, {
      auth: {
        token: WORKER_TOKEN,
        protocolVersion: PROTOCOL_VERSION,
        chorusVersion: CHORUS_VERSION,
        workerId: randomUUID(),
        name: 'flooder',
        host: 'test-host',
        backend: 'cpu',
        device: 'test',
        slots: 1,
        activeMembers: [],
      },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    flooder = socket;
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });

    const client = createHttpClient({ baseUrl: coordinator.url, token: ADMIN_TOKEN });
    const { id } = await client.createRun({
      body: {
        dataset: 'synthetic',
        model: 'mlp',
        members: 2,
        epochs: 3,
        batchSize: 4,
        trainLimit: 300,
        seed: 8,
      },
    });

    // Bursts of 200 `plan:next` for a member it does not hold (each would be refused `forbidden`)
    // every 50 ms, until the run ends; a heartbeat of its own every second, as a worker sends them.
    const codes = new Map<string, number>();
    const heartbeats: Answer[] = [];
    let running = true;
    let lastBeat = 0;
    const flood = (async () => {
      while (running) {
        const burst = Array.from(
          { length: 200 },
          () =>
            socket
              .timeout(10_000)
              .emitWithAck('plan:next', { memberId: 'not-a-member', attempt: 1, offset: 0, count: 1 })
              .catch(() => ({ ok: false, code: 'no answer' })) as Promise<Answer>,
        );
        if (Date.now() - lastBeat >= 1_000) {
          lastBeat = Date.now();
          heartbeats.push((await socket.timeout(10_000).emitWithAck('heartbeat', { members: [] })) as Answer);
        }
        for (const answer of await Promise.all(burst)) {
          const code = answer.ok ? 'ok' : answer.code;
          codes.set(code, (codes.get(code) ?? 0) + 1);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    let run: RunDetail | undefined;
    try {
      await expectEventually(async () => {
        run = await client.getRun({ params: { id } });
        expect(['completed', 'failed', 'cancelled']).toContain(run.status);
      }, 120_000);
    } finally {
      running = false;
      await flood;
    }
    expect(run?.status, run?.error ?? undefined).toBe('completed');
    // The honest worker never lost a lease: each member was leased once.
    expect(run?.members.map((m) => [m.status, m.attempt])).toEqual([
      ['completed', 1],
      ['completed', 1],
    ]);
    // The flood met its budget; what got through was refused as it should be, never unanswered.
    expect(codes.get('rate-limited') ?? 0).toBeGreaterThan(0);
    expect([...codes.keys()].sort()).toEqual(['forbidden', 'rate-limited']);
    // Its heartbeats passed all along: the flood spends another budget.
    expect(heartbeats.length).toBeGreaterThan(0);
    expect(heartbeats.every((h) => h.ok)).toBe(true);
  });
});
