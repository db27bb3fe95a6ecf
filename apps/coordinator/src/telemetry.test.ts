import { describe, expect, it } from 'vitest';
import { parsePrometheusText, type MetricFamily } from '@chorus/protocol';
import {
  cancelRun,
  claimAssignment,
  connectWorker,
  expectEventually,
  handshake,
  httpClient,
  launchRun,
  leaseOf,
  withCoordinator,
} from './testing/harness';

/**
 * GET /metrics of a real coordinator, read with libs/protocol's parser of the text format after
 * a scripted worker did what the counters count.
 */

const fixture = withCoordinator();

async function scrape(): Promise<Map<string, MetricFamily>> {
  // Open like the other reads: no token.
  const { bytes, headers } = await httpClient(fixture.coordinator).metrics();
  expect(headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(new TextDecoder().decode(bytes));
}

/** The value of the sample of `family` with these labels (and any others), or undefined. */
function valueOf(
  families: Map<string, MetricFamily>,
  family: string,
  labels: Record<string, string> = {},
  sample = family,
): number | undefined {
  return families
    .get(family)
    ?.samples.find((s) => s.name === sample && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    ?.value;
}

describe('GET /metrics', () => {
  it('counts workers, members, leases, messages, refusals, drains and database statements', async () => {
    const runId = await launchRun(fixture.coordinator, {
      dataset: 'synthetic',
      members: 2,
      epochs: 1,
      batchSize: 32,
      trainLimit: 200,
      seed: 3,
    });
    const worker = await connectWorker(fixture.coordinator, handshake({ backend: 'wasm', slots: 1 }));
    try {
      const a = await claimAssignment(worker);
      const point = { step: 1, epoch: 0, loss: 1, accuracy: 0.5, samplesPerSecond: 100 };
      expect(await worker.emitWithAck('metrics', { ...leaseOf(a), points: [point] })).toEqual({ ok: true });
      // Another attempt of the member: refused (forbidden).
      const stale = { memberId: a.memberId, attempt: a.attempt + 1 };
      expect(await worker.emitWithAck('metrics', { ...stale, points: [point] })).toMatchObject({
        ok: false,
        code: 'forbidden',
      });
      const before = await scrape();
      expect(before.get('chorus_workers_online')?.type).toBe('gauge');
      expect(valueOf(before, 'chorus_workers_online', { backend: 'wasm' })).toBe(1);
      // Leased, or running once its progress is written.
      const held = ['leased', 'running'].map((status) => valueOf(before, 'chorus_members', { status }) ?? 0);
      expect(held[0]! + held[1]!).toBe(1);
      expect(valueOf(before, 'chorus_members', { status: 'pending' })).toBe(1);
      expect(before.get('chorus_leases_granted_total')?.type).toBe('counter');
      expect(valueOf(before, 'chorus_leases_granted_total')).toBe(1);
      expect(valueOf(before, 'chorus_socket_messages_received_total', { event: 'metrics' })).toBe(2);
      expect(valueOf(before, 'chorus_socket_received_bytes_total', { event: 'metrics' })).toBeGreaterThan(
        2 * JSON.stringify(point).length,
      );
      expect(valueOf(before, 'chorus_socket_refusals_total', { event: 'metrics', code: 'forbidden' })).toBe(
        1,
      );
      const ack = before.get('chorus_socket_ack_seconds');
      expect(ack?.type).toBe('histogram');
      expect(
        valueOf(
          before,
          'chorus_socket_ack_seconds',
          { event: 'member:request' },
          'chorus_socket_ack_seconds_count',
        ),
      ).toBe(1);
      expect(
        valueOf(
          before,
          'chorus_socket_ack_seconds',
          { event: 'metrics', le: '+Inf' },
          'chorus_socket_ack_seconds_bucket',
        ),
      ).toBe(2);
      expect(
        valueOf(
          before,
          'chorus_database_statement_seconds',
          { statement: 'SELECT' },
          'chorus_database_statement_seconds_count',
        ),
      ).toBeGreaterThan(0);
      expect(before.get('chorus_metrics_buffer_points')?.type).toBe('gauge');
      expect(before.get('chorus_evaluation_seconds')?.type).toBe('histogram');
      // prom-client's process metrics: CPU, memory, event-loop lag.
      for (const name of [
        'process_cpu_user_seconds_total',
        'process_resident_memory_bytes',
        'nodejs_eventloop_lag_seconds',
      ]) {
        expect(before.get(name)?.samples.length, name).toBe(1);
      }
      // The buffered point is written within a flush (30 ms here), and the flush timed.
      await expectEventually(async () => {
        const now = await scrape();
        expect(
          valueOf(now, 'chorus_metrics_flush_seconds', {}, 'chorus_metrics_flush_seconds_count'),
        ).toBeGreaterThan(0);
        expect(valueOf(now, 'chorus_metrics_buffer_points')).toBe(0);
      });

      // A draining worker's release: counted as a drain, and the worker is leased nothing more.
      expect(
        await worker.emitWithAck('member:release', { ...leaseOf(a), planOffset: 0, reason: 'drain' }),
      ).toEqual({ ok: true });
      expect(await worker.emitWithAck('member:request', {})).toEqual({ ok: true, assignment: null });
      const after = await scrape();
      expect(valueOf(after, 'chorus_handovers_total', { reason: 'drain' })).toBe(1);
      expect(valueOf(after, 'chorus_members', { status: 'pending' })).toBe(2);
      expect(valueOf(after, 'chorus_leases_granted_total')).toBe(1);
    } finally {
      worker.close();
      await cancelRun(fixture.coordinator, runId);
    }
  });
});
