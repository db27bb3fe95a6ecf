/**
 * Load test of one coordinator by K simulated workers: light socket.io clients on `/workers` with
 * the worker token and a valid handshake, no training. Each claims one member of a run created
 * for the test (K members, the tiny `synthetic` dataset, so predictions are a few KB), then, for a
 * fixed time and at fixed rates, sends `metrics`, a round of `predictions` (validation, then test
 * once validation is acknowledged, as the real worker does) and `heartbeat`s. Messages are sent on
 * schedule whether or not earlier ones were acknowledged (open loop), so a slow coordinator shows
 * as latency and backlog rather than as a lower send rate. Loopback only; every loop is bounded.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { io, type Socket } from 'socket.io-client';
import { createRng, loadDataset, prepareRunData, softmaxRows } from '@chorus/data';
import {
  parseRunConfig,
  PROTOCOL_VERSION,
  CHORUS_VERSION,
  requestEvent,
  WORKERS_NAMESPACE,
  WorkerToCoordinatorCatalog,
  type CoordinatorToWorkerEvents,
  type RunConfigInput,
  type WorkerHandshake,
  type WorkerToCoordinatorEvents,
} from '@chorus/protocol';
import { coordinatorApi, cpuSecondsOf, type CoordinatorProcess, type RunWatcher } from './processes';
import { quantile } from './stats';

type WorkerSocket = Socket<CoordinatorToWorkerEvents, WorkerToCoordinatorEvents>;
export type MessageKind = 'metrics' | 'predictions' | 'heartbeat';

export interface LoadOptions {
  clients: number;
  /** Length of the sending window. */
  seconds: number;
  /** `metrics` messages per second per client. */
  metricsHz: number;
  pointsPerMessage: number;
  /** A round of predictions (validation + test) every this many seconds per client; 0 for none. */
  roundEverySeconds: number;
  heartbeatEverySeconds: number;
  /** How long to wait for the last acknowledgements after the window. */
  drainTimeoutMs: number;
  /** How long to wait for the evaluations the predictions scheduled. */
  evaluationTimeoutMs: number;
}

export interface KindStats {
  sent: number;
  acked: number;
  errors: number;
  latencies: number[];
}

export interface LoadReport {
  clients: number;
  connected: number;
  /** connect_error messages of clients that could not connect. */
  refusals: string[];
  /** Disconnections and `member:revoke`s during the test (before the bench closes the run). */
  disconnects: number;
  revokes: number;
  claimed: number;
  connectSeconds: number;
  claimSeconds: number;
  windowSeconds: number;
  /** Window start → last acknowledgement. */
  ackSpanSeconds: number;
  byKind: Record<MessageKind, KindStats>;
  errorCodes: Map<string, number>;
  predictionBytes: { validation: number; test: number };
  /** Evaluation notifications seen (the coordinator coalesces the test splits that arrive together). */
  evaluationsSeen: number;
  /** Rounds every client completed (test split acked), and those the coordinator reported complete. */
  roundsExpected: number;
  roundsSeen: number;
  /** Window end → every expected round reported complete (NaN if they did not all come). */
  evaluationDrainSeconds: number;
  coordinatorCpuPercent: number;
  /** The coordinator process's CPU seconds over the same span (connect → evaluations done). */
  coordinatorCpuSeconds: number;
}

const now = (): number => performance.now();

async function connectClient(coordinator: CoordinatorProcess, index: number): Promise<WorkerSocket> {
  const auth: WorkerHandshake = {
    token: coordinator.workerToken,
    protocolVersion: PROTOCOL_VERSION,
    chorusVersion: CHORUS_VERSION,
    workerId: randomUUID(),
    name: `load-${index}`,
    host: 'bench-loopback',
    backend: 'cpu',
    device: 'simulated (no training)',
    slots: 1,
    activeMembers: [],
  };
  const socket: WorkerSocket = io(`${coordinator.url}${WORKERS_NAMESPACE}`, {
    auth,
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`load client ${index}: no connection in 30 s`)), 30_000);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once('connect_error', (error) => {
      clearTimeout(timer);
      socket.close();
      reject(error);
    });
  });
  return socket;
}

/** Calls fn(k) at start + phase + k·period for every such time before `end`. */
async function every(start: number, end: number, periodMs: number, phaseMs: number, fn: (k: number) => void) {
  if (!Number.isFinite(periodMs)) return;
  for (let k = 0; ; k++) {
    const at = start + phaseMs + k * periodMs;
    if (at >= end) return;
    const wait = at - now();
    if (wait > 0) await sleep(wait);
    fn(k);
  }
}

export async function runLoadTest(
  coordinator: CoordinatorProcess,
  watcher: RunWatcher,
  options: LoadOptions,
): Promise<LoadReport> {
  const K = options.clients;
  const runInput: RunConfigInput = {
    name: `cluster bench load test, ${K} clients`,
    dataset: 'synthetic',
    model: 'mlp',
    members: K,
    sharding: 'full',
    // Enough batches that the simulated steps stay inside the members' plans.
    epochs: 20,
    batchSize: 32,
    seed: 1,
  };
  const cfg = parseRunConfig(runInput);
  const dataset = await loadDataset('synthetic', { seed: cfg.seed });
  const splits = prepareRunData(dataset, cfg);
  const numClasses = dataset.numClasses;
  const rows = { validation: splits.validation.count, test: splits.test.count };

  const { id: runId } = await coordinatorApi(coordinator).createRun({ body: runInput });
  await watcher.join(runId);

  const byKind: Record<MessageKind, KindStats> = {
    metrics: { sent: 0, acked: 0, errors: 0, latencies: [] },
    predictions: { sent: 0, acked: 0, errors: 0, latencies: [] },
    heartbeat: { sent: 0, acked: 0, errors: 0, latencies: [] },
  };
  const errorCodes = new Map<string, number>();
  let lastAckAt = 0;
  let outstanding = 0;
  // Test splits acknowledged, by round: a round every client completed must be evaluated as complete.
  const testAcked = new Map<number, number>();
  let settled: () => void = () => undefined;

  /** Sends one message; resolves with whether it was acknowledged with ok: true. */
  const send = (
    socket: WorkerSocket,
    kind: MessageKind,
    emit: (ack: (answer: { ok: boolean; code?: string; revoked?: unknown[] }) => void) => void,
  ): Promise<boolean> => {
    const stats = byKind[kind];
    stats.sent++;
    outstanding++;
    const sentAt = now();
    return new Promise((resolve) => {
      emit((answer) => {
        const at = now();
        lastAckAt = Math.max(lastAckAt, at);
        stats.acked++;
        stats.latencies.push(at - sentAt);
        let ok = answer.ok;
        let code = answer.code ?? 'unknown';
        if (ok && kind === 'heartbeat' && Array.isArray(answer.revoked) && answer.revoked.length > 0) {
          ok = false;
          code = 'revoked (heartbeat)';
        }
        if (!ok) {
          stats.errors++;
          errorCodes.set(`${kind}: ${code}`, (errorCodes.get(`${kind}: ${code}`) ?? 0) + 1);
        }
        if (--outstanding === 0) settled();
        resolve(ok);
      });
    });
  };

  const cpu0 = cpuSecondsOf(coordinator.pid);
  const connectStart = now();
  const attempts = await Promise.allSettled(
    Array.from({ length: K }, (_, i) => connectClient(coordinator, i)),
  );
  const connectSeconds = (now() - connectStart) / 1000;
  const sockets = attempts.flatMap((a) => (a.status === 'fulfilled' ? [a.value] : []));
  const refusals = attempts.flatMap((a) => (a.status === 'rejected' ? [String(a.reason)] : []));
  // Anything the coordinator does to a client on its own during the test is a finding.
  let disconnects = 0;
  let revokes = 0;
  let closing = false;
  for (const socket of sockets) {
    socket.on('disconnect', () => {
      if (!closing) disconnects++;
    });
    socket.on('member:revoke', () => {
      if (!closing) revokes++;
    });
  }

  const claimStart = now();
  const assignments = await Promise.all(
    sockets.map(async (socket) => {
      const answer = await requestEvent(
        socket,
        WorkerToCoordinatorCatalog,
        'member:request',
        {},
        {
          timeoutMs: 30_000,
        },
      );
      return answer.ok ? answer.assignment : null;
    }),
  );
  const claimSeconds = (now() - claimStart) / 1000;

  const payloads = {
    validation: new Uint8Array(softmaxRows(rows.validation, numClasses, 1).buffer),
    test: new Uint8Array(softmaxRows(rows.test, numClasses, 2).buffer),
  };
  const start = now() + 200;
  const end = start + options.seconds * 1000;
  const metricsPeriod = 1000 / options.metricsHz;
  // 0 = no predictions (metrics and heartbeats only).
  const roundPeriod =
    options.roundEverySeconds > 0 ? options.roundEverySeconds * 1000 : Number.POSITIVE_INFINITY;
  const heartbeatPeriod = options.heartbeatEverySeconds * 1000;

  const predictionChains: Promise<unknown>[] = [];
  const loops = sockets.flatMap((socket, i) => {
    const a = assignments[i];
    if (!a) return [];
    const lease = { memberId: a.memberId, attempt: a.attempt };
    const phase = i / K;
    const rng = createRng(i + 1, 0x7e57);
    let step = 0;
    return [
      every(start, end, metricsPeriod, phase * metricsPeriod, () => {
        const points = Array.from({ length: options.pointsPerMessage }, () => ({
          step: ++step,
          epoch: 0,
          loss: 2 * rng.next(),
          accuracy: rng.next(),
          samplesPerSecond: 20_000,
        }));
        void send(socket, 'metrics', (ack) => socket.emit('metrics', { ...lease, points }, ack));
      }),
      every(start, end, roundPeriod, phase * roundPeriod, (round) => {
        const chain = (async () => {
          const message = (split: 'validation' | 'test') => ({
            ...lease,
            round,
            split,
            rows: rows[split],
            numClasses,
            probabilities: payloads[split],
          });
          const validated = await send(socket, 'predictions', (ack) =>
            socket.emit('predictions', message('validation'), ack),
          );
          if (!validated) return;
          // The test split completes the pair: the coordinator schedules one evaluation for it.
          if (await send(socket, 'predictions', (ack) => socket.emit('predictions', message('test'), ack))) {
            testAcked.set(round, (testAcked.get(round) ?? 0) + 1);
          }
        })();
        predictionChains.push(chain);
      }),
      every(start, end, heartbeatPeriod, phase * heartbeatPeriod, () => {
        void send(socket, 'heartbeat', (ack) => socket.emit('heartbeat', { members: [lease] }, ack));
      }),
    ];
  });
  await Promise.all(loops);

  // The window is over: wait (bounded) for the acknowledgements still in flight.
  const drained = new Promise<void>((resolve) => {
    settled = resolve;
    if (outstanding === 0) resolve();
  });
  await Promise.race([Promise.all([drained, ...predictionChains]), sleep(options.drainTimeoutMs)]);
  const windowEnd = end;

  const claimed = assignments.filter(Boolean).length;
  const expectedRounds = [...testAcked].filter(([, n]) => n === claimed).map(([round]) => round);
  const seen = await watcher.until(
    runId,
    (w) => expectedRounds.every((round) => w.completeRounds.has(round)),
    Math.max(0, options.evaluationTimeoutMs - Math.max(0, now() - windowEnd)),
  );
  const evaluationDrainSeconds = seen ? Math.max(0, now() - windowEnd) / 1000 : Number.NaN;
  const cpu1 = cpuSecondsOf(coordinator.pid);
  const cpuPercent = (100 * (cpu1 - cpu0)) / ((now() - connectStart) / 1000);

  closing = true;
  await coordinatorApi(coordinator)
    .cancelRun({ params: { id: runId } })
    .catch(() => undefined);
  for (const socket of sockets) socket.close();

  return {
    clients: K,
    connected: sockets.length,
    refusals,
    disconnects,
    revokes,
    claimed,
    connectSeconds,
    claimSeconds,
    windowSeconds: options.seconds,
    ackSpanSeconds: (Math.max(lastAckAt, start) - start) / 1000,
    byKind,
    errorCodes,
    predictionBytes: { validation: payloads.validation.byteLength, test: payloads.test.byteLength },
    evaluationsSeen: watcher.state(runId).evaluations,
    roundsExpected: expectedRounds.length,
    roundsSeen: expectedRounds.filter((round) => watcher.state(runId).completeRounds.has(round)).length,
    evaluationDrainSeconds,
    coordinatorCpuPercent: cpuPercent,
    coordinatorCpuSeconds: cpu1 - cpu0,
  };
}

export function latencySummary(stats: readonly KindStats[]): {
  p50: number;
  p95: number;
  p99: number;
  max: number;
} {
  const all = stats.flatMap((s) => s.latencies);
  return {
    p50: quantile(all, 0.5),
    p95: quantile(all, 0.95),
    p99: quantile(all, 0.99),
    max: all.length ? all.reduce((m, v) => Math.max(m, v), 0) : Number.NaN,
  };
}
