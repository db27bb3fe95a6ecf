import { collectDefaultMetrics, Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Repositories } from '@chorus/db';

/**
 * The coordinator's Prometheus metrics (README "Metrics" lists them), registered on the registry
 * it is given: a coordinator never uses prom-client's global registry, so two in one process (tests)
 * keep apart. Counters and histograms are fed by the services; the workers and members gauges are
 * read from the database on each scrape.
 */
export interface CoordinatorTelemetry {
  registry: Registry;
  leasesGranted: Counter;
  leasesExpired: Counter;
  leasesRevoked: Counter;
  /** `reason`: `handover` (straggler) or `drain`. */
  handovers: Counter<'reason'>;
  messagesReceived: Counter<'event'>;
  bytesReceived: Counter<'event'>;
  refusals: Counter<'event' | 'code'>;
  ackSeconds: Histogram<'event'>;
  metricsBufferPoints: Gauge;
  metricsFlushSeconds: Histogram;
  databaseSeconds: Histogram<'statement'>;
  evaluationSeconds: Histogram;
}

/** Seconds: from a fraction of a millisecond (an ack from memory) to tens of seconds. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function createCoordinatorTelemetry(registry: Registry): CoordinatorTelemetry {
  const registers = [registry];
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    leasesGranted: new Counter({
      name: 'chorus_leases_granted_total',
      help: 'Members leased to a worker.',
      registers,
    }),
    leasesExpired: new Counter({
      name: 'chorus_leases_expired_total',
      help: 'Leases that expired without a heartbeat (their members re-queued).',
      registers,
    }),
    leasesRevoked: new Counter({
      name: 'chorus_leases_revoked_total',
      help: 'Leases revoked (run cancelled or failed, lease lost while disconnected).',
      registers,
    }),
    handovers: new Counter({
      name: 'chorus_handovers_total',
      help: 'Members released by their worker for another: straggler handover or drain.',
      labelNames: ['reason'],
      registers,
    }),
    messagesReceived: new Counter({
      name: 'chorus_socket_messages_received_total',
      help: 'Messages received from workers, by socket event.',
      labelNames: ['event'],
      registers,
    }),
    bytesReceived: new Counter({
      name: 'chorus_socket_received_bytes_total',
      help: 'Payload bytes received from workers, by socket event (binary fields plus the JSON of the rest).',
      labelNames: ['event'],
      registers,
    }),
    refusals: new Counter({
      name: 'chorus_socket_refusals_total',
      help: 'Worker messages refused, by socket event and error code.',
      labelNames: ['event', 'code'],
      registers,
    }),
    ackSeconds: new Histogram({
      name: 'chorus_socket_ack_seconds',
      help: 'Time from a worker message arriving to its acknowledgement, by socket event.',
      labelNames: ['event'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    metricsBufferPoints: new Gauge({
      name: 'chorus_metrics_buffer_points',
      help: 'Training metric points received and not yet written to the database.',
      registers,
    }),
    metricsFlushSeconds: new Histogram({
      name: 'chorus_metrics_flush_seconds',
      help: 'Time to write one batch of buffered metric points and member progress.',
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    databaseSeconds: new Histogram({
      name: 'chorus_database_statement_seconds',
      help: 'Prisma statements, by first SQL keyword.',
      labelNames: ['statement'],
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    evaluationSeconds: new Histogram({
      name: 'chorus_evaluation_seconds',
      help: 'Time to evaluate the ensemble (every strategy and diversity measure) for one round, in the evaluation thread.',
      buckets: LATENCY_BUCKETS,
      registers,
    }),
  };
}

/** The gauges read from the database on each scrape: workers online by backend, members by status. */
export function registerDatabaseGauges(telemetry: CoordinatorTelemetry, repos: Repositories): void {
  const registers = [telemetry.registry];
  new Gauge({
    name: 'chorus_workers_online',
    help: 'Workers connected now, by tfjs backend.',
    labelNames: ['backend'],
    registers,
    async collect() {
      this.reset();
      for (const { backend, count } of await repos.workers.countOnlineByBackend()) {
        this.set({ backend }, count);
      }
    },
  });
  new Gauge({
    name: 'chorus_members',
    help: 'Ensemble members of every run, by status.',
    labelNames: ['status'],
    registers,
    async collect() {
      this.reset();
      for (const { status, count } of await repos.members.countByStatus()) this.set({ status }, count);
    },
  });
}

/** Bytes a received payload took: its binary fields' lengths plus the JSON of everything else. */
export function payloadBytes(payload: unknown): number {
  let binary = 0;
  // `this[key]` is the value before its toJSON (a Buffer's would list every byte as a number).
  const json = JSON.stringify(payload ?? null, function (this: Record<string, unknown>, key, value: unknown) {
    const raw = this[key];
    if (ArrayBuffer.isView(raw) || raw instanceof ArrayBuffer) {
      binary += raw.byteLength;
      return 0;
    }
    return value;
  });
  return binary + Buffer.byteLength(json ?? '');
}
