import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { Server, type Namespace, type Socket } from 'socket.io';
import { bundleSha256, deriveRun, encodeDatasetBundle, loadRunDataset } from '@chorus/data';
import {
  emitEvent,
  handleEvent,
  memberModelSpec,
  packPlanChunk,
  PROTOCOL_VERSION,
  WORKERS_NAMESPACE,
  WorkerHandshakeSchema,
  WorkerToCoordinatorCatalog,
  CoordinatorToWorkerCatalog,
  type Assignment,
  type CheckpointMessage,
  type CoordinatorToWorkerEvents,
  type HandlerResultOf,
  type LeaseNotice,
  type LeaseRef,
  type ParsedMessageOf,
  type RunConfig,
  type WorkerHandshake,
  type WorkerToCoordinatorEvents,
} from '@chorus/protocol';
import { startWorker, type WorkerHandle } from './worker';

/**
 * A real socket.io server speaking the `/workers` side of the protocol, for tests that need only
 * a few events (the handlers are the test's). Checks the handshake as the coordinator does.
 */
export type TestWorkerSocket = Socket<WorkerToCoordinatorEvents, CoordinatorToWorkerEvents>;

export interface TestServer {
  url: string;
  port: number;
  nsp: Namespace<WorkerToCoordinatorEvents, CoordinatorToWorkerEvents>;
  handshakes: WorkerHandshake[];
  /** Handshakes seen, accepted or refused. */
  attempts(): number;
  close(): Promise<void>;
}

export async function startTestServer(options: {
  token: string;
  port?: number;
  onConnection: (socket: TestWorkerSocket) => void;
}): Promise<TestServer> {
  const http: HttpServer = createServer();
  const io = new Server<WorkerToCoordinatorEvents, CoordinatorToWorkerEvents>(http);
  const nsp = io.of(WORKERS_NAMESPACE);
  const handshakes: WorkerHandshake[] = [];
  let attempts = 0;
  nsp.use((socket, next) => {
    attempts++;
    const parsed = WorkerHandshakeSchema.safeParse(socket.handshake.auth);
    const fail = (code: string, message: string) =>
      next(Object.assign(new Error(message), { data: { code } }));
    if (!parsed.success) return fail('invalid-input', `invalid handshake: ${parsed.error.message}`);
    if (parsed.data.token !== options.token) return fail('unauthorized', 'unauthorized: wrong worker token');
    if (parsed.data.protocolVersion !== PROTOCOL_VERSION)
      return fail('invalid-input', 'protocol version mismatch');
    handshakes.push(parsed.data);
    next();
  });
  nsp.on('connection', options.onConnection);
  await new Promise<void>((resolve) => http.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    nsp,
    handshakes,
    attempts: () => attempts,
    close: () => io.close(),
  };
}

/** Polls `check` until it stops throwing, or fails with its last error after `timeoutMs`. */
export async function expectEventually(check: () => void | Promise<void>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** A message the fake coordinator received, as parsed. */
export interface ReceivedMessage {
  at: number;
  event: keyof WorkerToCoordinatorEvents;
  payload: Record<string, unknown>;
}

/**
 * A scripted coordinator: a real socket.io + HTTP server that implements the coordinator's side of
 * every worker event from the protocol schemas, hands out the assignments a test offers for one
 * run of `config` on the synthetic dataset, serves its bundle and the checkpoints it was sent
 * (`/api/checkpoints/<memberId>/<epoch>`), and records everything the worker sends.
 */
export interface FakeCoordinator {
  url: string;
  io: Server<WorkerToCoordinatorEvents, CoordinatorToWorkerEvents>;
  received: ReceivedMessage[];
  /** Checkpoints by `<memberId>/<epoch>`; a test may add its own. */
  checkpoints: Map<string, CheckpointMessage>;
  /** Leases that heartbeat answers say the worker no longer holds. */
  revokeOnHeartbeat: LeaseRef[];
  /** Called with every message as it is recorded, before it is acknowledged. */
  onReceive: ((message: ReceivedMessage) => void) | null;
  /** Called with every checkpoint download before it is answered, which waits for it. */
  onCheckpointDownload: ((memberId: string, epoch: number) => Promise<void>) | null;
  trainCount: number;
  validationRows: number;
  testRows: number;
  /** The messages of one event, of one member if given. */
  of(event: ReceivedMessage['event'], memberId?: string): ReceivedMessage[];
  /** Attempt 1 of member `memberIndex` from its first batch, unless `extra` says otherwise. */
  assignment(memberIndex: number, memberId: string, extra?: Partial<Assignment>): Assignment;
  /**
   * The fields of an assignment that resumes from the checkpoint stored under `key`
   * (`<memberId>/<epoch>`), as the coordinator fills them in.
   */
  resumption(key: string): Pick<Assignment, 'planOffset' | 'epoch' | 'checkpoint'>;
  /** Queues an assignment and tells the workers. */
  offer(a: Assignment): void;
  /** Sends a notice to every connected worker (checked against the protocol). */
  emit(event: 'member:revoke' | 'member:handover', notice: LeaseNotice): void;
  /** Tells every connected worker to drain (`worker:drain`). */
  drain(reason: string): void;
  close(): Promise<void>;
}

type Catalog = typeof WorkerToCoordinatorCatalog;

export async function startFakeCoordinator(options: {
  token: string;
  config: RunConfig;
}): Promise<FakeCoordinator> {
  const { token, config } = options;
  const dataset = await loadRunDataset(config);
  const bundle = encodeDatasetBundle(dataset);
  const sha256 = bundleSha256(bundle);
  const prepared = deriveRun(config, dataset);
  const { plan } = prepared;
  const queue: Assignment[] = [];
  // Member index of every member id offered: plan:next answers from that member's plan.
  const memberIndex = new Map<string, number>();

  const http = createServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${token}`) return void res.writeHead(401).end();
    if (req.url === `/api/datasets/${sha256}`) return void res.writeHead(200).end(bundle);
    const m = /^\/api\/checkpoints\/([^/]+)\/(\d+)$/.exec(req.url ?? '');
    if (m === null) return void res.writeHead(404).end();
    const [memberId, epoch] = [m[1] as string, Number(m[2])];
    void (fake.onCheckpointDownload?.(memberId, epoch) ?? Promise.resolve()).then(() => {
      const c = fake.checkpoints.get(`${memberId}/${epoch}`);
      if (c) res.writeHead(200).end(c.weights);
      else res.writeHead(404).end();
    });
  });
  const io = new Server<WorkerToCoordinatorEvents, CoordinatorToWorkerEvents>(http);
  const nsp = io.of(WORKERS_NAMESPACE);
  nsp.use((socket, next) =>
    socket.handshake.auth['token'] === token ? next() : next(new Error('unauthorized')),
  );
  nsp.on('connection', (socket) => {
    // As the coordinator does at a new id's first registration (it remembers none: any id is new).
    const auth = socket.handshake.auth as { workerId?: unknown; secret?: unknown };
    if (typeof auth.workerId === 'string' && auth.secret === undefined)
      emitEvent(socket, CoordinatorToWorkerCatalog, 'worker:registered', {
        workerId: auth.workerId,
        secret: randomBytes(32).toString('base64url'),
      });
    const record = (event: ReceivedMessage['event'], payload: unknown) => {
      const message = { at: performance.now(), event, payload: payload as Record<string, unknown> };
      fake.received.push(message);
      fake.onReceive?.(message);
    };
    const on = <E extends keyof Catalog & string>(
      event: E,
      handler: (payload: ParsedMessageOf<Catalog, E>) => HandlerResultOf<Catalog, E>,
    ) => handleEvent(socket, WorkerToCoordinatorCatalog, event, handler);
    on('member:request', () => {
      record('member:request', {});
      return { assignment: queue.shift() ?? null };
    });
    on('plan:next', (r) => {
      record('plan:next', r);
      const batches = plan.member(memberIndex.get(r.memberId) ?? 0).batches(r.offset, r.count);
      return { chunk: packPlanChunk(r.offset, batches) };
    });
    on('metrics', (m) => record('metrics', m));
    on('predictions', (p) => record('predictions', p));
    on('checkpoint', (c) => {
      fake.checkpoints.set(`${c.memberId}/${c.epoch}`, { ...c, weights: new Uint8Array(c.weights) });
      record('checkpoint', { ...c, weights: c.weights.length });
    });
    on('member:done', (m) => record('member:done', m));
    on('member:failed', (m) => {
      record('member:failed', m);
      return { requeued: true };
    });
    on('member:release', (m) => record('member:release', m));
    on('heartbeat', ({ members: held }) => {
      record('heartbeat', { members: held });
      return {
        revoked: fake.revokeOnHeartbeat.filter((r) => held.some((h) => h.memberId === r.memberId)),
      };
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;

  const fake: FakeCoordinator = {
    url: `http://127.0.0.1:${port}`,
    io,
    received: [],
    checkpoints: new Map(),
    revokeOnHeartbeat: [],
    onReceive: null,
    onCheckpointDownload: null,
    trainCount: prepared.train.count,
    validationRows: prepared.validation.count,
    testRows: prepared.test.count,
    of: (event, memberId) =>
      fake.received.filter(
        (r) => r.event === event && (memberId === undefined || r.payload['memberId'] === memberId),
      ),
    assignment: (index, memberId, extra = {}) => ({
      runId: 'run-1',
      memberId,
      memberIndex: index,
      attempt: 1,
      config,
      model: memberModelSpec(config, index),
      dataset: { name: 'synthetic', sha256, url: `/api/datasets/${sha256}`, bytes: bundle.length },
      totalBatches: plan.member(index).totalBatches,
      planOffset: 0,
      epoch: 0,
      checkpoint: null,
      ...extra,
    }),
    resumption: (key) => {
      const c = fake.checkpoints.get(key);
      if (c === undefined) throw new Error(`no checkpoint ${key}`);
      const { epoch, step, planOffset } = c;
      return { planOffset, epoch, checkpoint: { epoch, step, planOffset, url: `/api/checkpoints/${key}` } };
    },
    offer: (a) => {
      memberIndex.set(a.memberId, a.memberIndex);
      queue.push(a);
      emitEvent(nsp, CoordinatorToWorkerCatalog, 'work:available');
    },
    emit: (event, notice) => emitEvent(nsp, CoordinatorToWorkerCatalog, event, notice),
    drain: (reason) => emitEvent(nsp, CoordinatorToWorkerCatalog, 'worker:drain', { reason }),
    close: () => io.close(),
  };
  return fake;
}

/**
 * A real worker on the cpu backend against `coordinator`, tuned for tests (fast heartbeats and
 * metrics, small plan chunks, no polling), with a cache directory of its own; `stop()` closes the
 * worker and the coordinator and removes the directory.
 */
export async function startTestWorker(
  coordinator: FakeCoordinator,
  token: string,
  logger: Logger,
  options: { heartbeatMs?: number; metricsPort?: number; healthPort?: number } = {},
): Promise<{ worker: WorkerHandle; stop: () => Promise<void> }> {
  const cacheDir = await mkdtemp(join(tmpdir(), 'chorus-worker-test-'));
  const worker = await startWorker({
    coordinatorUrl: coordinator.url,
    token,
    backend: 'cpu',
    cacheDir,
    logger,
    heartbeatMs: options.heartbeatMs ?? 100,
    pollMs: 60_000,
    metricsIntervalMs: 50,
    planChunkSize: 16,
    ...(options.metricsPort !== undefined && { metricsPort: options.metricsPort }),
    ...(options.healthPort !== undefined && { healthPort: options.healthPort }),
  });
  return {
    worker,
    stop: async () => {
      await worker.close();
      await coordinator.close();
      await rm(cacheDir, { recursive: true, force: true });
    },
  };
}
