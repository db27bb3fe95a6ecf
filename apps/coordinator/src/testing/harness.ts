/**
 * Test fixtures: a real coordinator on a real Postgres database (libs/db testing), real HTTP and
 * real socket.io clients acting as light, scripted workers. Nothing of ours is mocked.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll } from 'vitest';
import { createRepositories, type PrismaClient, type Repositories } from '@chorus/db';
import { withTestDatabase } from '@chorus/db/testing';
import {
  countMemberParams,
  createHttpClient,
  DATASET_SHAPES,
  encodeCheckpointBytes,
  PROTOCOL_VERSION,
  CHORUS_VERSION,
  WORKERS_NAMESPACE,
  type HttpClient,
  type RunConfigInput,
  type Assignment,
  type CoordinatorToWorkerEvents,
  type LeaseRef,
  type WorkerHandshake,
  type WorkerToCoordinatorEvents,
} from '@chorus/protocol';
import { startCoordinator, type CoordinatorOptions, type RunningCoordinator } from '../coordinator';

export const WORKER_TOKEN = 'worker-token-for-tests-0123456789';
export const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';

export type WorkerSocket = Socket<CoordinatorToWorkerEvents, WorkerToCoordinatorEvents>;

export interface FakeClock {
  now: () => Date;
  advance(ms: number): void;
}

/** A clock the test moves by hand (leases, heartbeats). */
export function createFakeClock(start = Date.now()): FakeClock {
  let t = start;
  return { now: () => new Date(t), advance: (ms) => void (t += ms) };
}

export interface CoordinatorFixture {
  readonly coordinator: RunningCoordinator;
  readonly repos: Repositories;
  readonly dataDir: string;
  readonly connectionString: string;
  /** For counting rows in assertions. */
  readonly prisma: PrismaClient;
  /**
   * Stops the coordinator and starts a new one with the same options on the same database and
   * data dir (a restart: whatever it kept in memory is gone). Its URL changes; clients reconnect.
   */
  restart(): Promise<RunningCoordinator>;
}

/** A coordinator on a fresh migrated database for the tests of one file. */
export function withCoordinator(options: Partial<CoordinatorOptions> = {}): CoordinatorFixture {
  const db = withTestDatabase();
  let coordinator: RunningCoordinator | undefined;
  let repos: Repositories | undefined;
  let dataDir: string | undefined;
  const start = (dir: string) =>
    startCoordinator({
      port: 0,
      dataDir: dir,
      databaseUrl: db.connectionString,
      workerToken: WORKER_TOKEN,
      adminToken: ADMIN_TOKEN,
      logger: pino({ level: 'silent' }),
      metricsFlushMs: 30,
      // Scripted workers re-claim a failed member at once unless a test sets a backoff.
      retryBackoffMs: 0,
      sweepIntervalMs: 30,
      ...options,
    });
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'chorus-coordinator-'));
    coordinator = await start(dataDir);
    repos = createRepositories(db.prisma, options.clock ? { clock: options.clock } : {});
  });
  afterAll(async () => {
    await coordinator?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the coordinator starts in beforeAll');
    return value;
  };
  return {
    get coordinator() {
      return ready(coordinator);
    },
    get repos() {
      return ready(repos);
    },
    get dataDir() {
      return ready(dataDir);
    },
    get connectionString() {
      return db.connectionString;
    },
    get prisma() {
      return db.prisma;
    },
    async restart() {
      const dir = ready(dataDir);
      await ready(coordinator).close();
      coordinator = await start(dir);
      return coordinator;
    },
  };
}

/** The typed HTTP client of libs/protocol on this coordinator, sending `token` to the routes that need one. */
export function httpClient(coordinator: RunningCoordinator, token?: string): HttpClient {
  return createHttpClient({ baseUrl: coordinator.url, ...(token !== undefined && { token }) });
}

export function handshake(overrides: Partial<WorkerHandshake> = {}): WorkerHandshake {
  return {
    token: WORKER_TOKEN,
    protocolVersion: PROTOCOL_VERSION,
    chorusVersion: CHORUS_VERSION,
    workerId: randomUUID(),
    name: 'scripted-worker',
    host: 'test-host',
    backend: 'cpu',
    device: 'test',
    slots: 8,
    activeMembers: [],
    ...overrides,
  };
}

/** The secrets coordinators issued to the scripted workers' ids (as a worker keeps its own). */
const issuedSecrets = new Map<string, string>();

/** The secret issued to a scripted worker's id, once it connected. */
export function secretOf(workerId: string): string | undefined {
  return issuedSecrets.get(workerId);
}

/**
 * Connects a scripted worker; rejects with the coordinator's `connect_error`. Like a real worker it
 * presents the secret issued to its id (unless `auth` names one, or `presentSecret` is false), and
 * a first connection resolves once the secret it was issued (`worker:registered`) arrived.
 */
export async function connectWorker(
  coordinator: RunningCoordinator,
  auth: Record<string, unknown> = handshake(),
  options: { presentSecret?: boolean } = {},
): Promise<WorkerSocket> {
  const workerId = typeof auth.workerId === 'string' ? auth.workerId : undefined;
  const kept = workerId === undefined ? undefined : issuedSecrets.get(workerId);
  const presented =
    auth.secret === undefined && kept !== undefined && options.presentSecret !== false
      ? { ...auth, secret: kept }
      : auth;
  const socket: WorkerSocket = io(`${coordinator.url}${WORKERS_NAMESPACE}`, {
    auth: presented,
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  });
  const registered = new Promise<void>((resolve) => {
    socket.once('worker:registered', ({ workerId: id, secret }) => {
      issuedSecrets.set(id, secret);
      resolve();
    });
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (error) => {
      socket.close();
      reject(error);
    });
  });
  // Without a secret, a connection is accepted only as a new id, and the coordinator issues it one.
  if (presented.secret === undefined) await registered;
  return socket;
}

/** Polls `check` until it stops throwing (or returns true), or fails at the deadline. */
export async function expectEventually<T>(check: () => Promise<T> | T, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== false) return value;
      last = new Error('condition is still false');
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw last;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Valid softmax probabilities (random logits, seeded): rows × numClasses float32. */
export { softmaxRows } from '@chorus/data';

/** The bytes of a typed array (what travels as a socket.io binary attachment). */
export function bytesOf(
  values: Float32Array<ArrayBuffer> | Int32Array<ArrayBuffer>,
): Uint8Array<ArrayBuffer> {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

/** Launches a run with the admin token (the client checks it is created: 201); its id. */
/**
 * A synthetic run of one mlp member: 600 rows, 20 % held out for validation, so 480 training rows
 * in batches of 64, 8 mini-batches an epoch.
 */
export function oneMemberRun(epochs: number): RunConfigInput {
  return {
    dataset: 'synthetic',
    members: 1,
    epochs,
    batchSize: 64,
    trainLimit: 600,
    validationFraction: 0.2,
    seed: 5,
  };
}

/** An array for a test file's worker sockets, every one closed after the file's tests. */
export function socketsClosedAfterAll(): WorkerSocket[] {
  const sockets: WorkerSocket[] = [];
  afterAll(() => sockets.forEach((s) => s.close()));
  return sockets;
}

export async function launchRun(coordinator: RunningCoordinator, config: RunConfigInput): Promise<string> {
  return (await httpClient(coordinator, ADMIN_TOKEN).createRun({ body: config })).id;
}

/** Cancels a run with the admin token (tests end their runs, so none of their members is claimable later). */
export async function cancelRun(coordinator: RunningCoordinator, runId: string): Promise<void> {
  await httpClient(coordinator, ADMIN_TOKEN).cancelRun({ params: { id: runId } });
}

/** The scripted worker's next member; throws when it is refused or gets none. */
export async function claimAssignment(worker: WorkerSocket): Promise<Assignment> {
  const answer = await worker.emitWithAck('member:request', {});
  if (!answer.ok || !answer.assignment)
    throw new Error(`expected an assignment, got ${JSON.stringify(answer)}`);
  return answer.assignment;
}

/**
 * A checkpoint the coordinator accepts for this member (container, CRC, its parameter count), its
 * weights one float32 vector of `fill(i)` values: a built-in dataset's member, as a worker sends it.
 */
export function checkpointFor(a: Assignment, fill: (i: number) => number = () => 0): Uint8Array<ArrayBuffer> {
  const shape = DATASET_SHAPES[a.config.dataset as keyof typeof DATASET_SHAPES];
  const params = countMemberParams({
    model: a.model.name,
    modelFile: a.model.modelFile,
    ...shape,
    width: a.model.width,
  });
  return encodeCheckpointBytes([[params]], fill);
}

/** The lease an assignment grants. */
export const leaseOf = (a: Assignment): LeaseRef => ({ memberId: a.memberId, attempt: a.attempt });
