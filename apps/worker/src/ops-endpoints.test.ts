import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  parsePrometheusText,
  parseRunConfig,
  WorkerHealthSchema,
  type MetricFamily,
  type WorkerHealth,
} from '@chorus/protocol';
import type { WorkerHandle } from './worker';
import { expectEventually, startFakeCoordinator, startTestWorker, type FakeCoordinator } from './test-server';

/**
 * A worker's GET /health and GET /metrics (`--health-port`, `--metrics-port`) and its drain by the
 * coordinator's `worker:drain`, against the scripted coordinator: real sockets, real training.
 */

const TOKEN = 'ops-test-token';
const config = parseRunConfig({
  dataset: 'synthetic',
  model: 'mlp',
  members: 2,
  epochs: 2,
  batchSize: 16,
  trainLimit: 1200,
  seed: 9,
  sharding: 'round-robin',
});
const logs: Array<Record<string, unknown>> = [];
const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });

let coordinator: FakeCoordinator;
let worker: WorkerHandle;
let stop: () => Promise<void>;

async function health(url: string): Promise<{ status: number; body: WorkerHealth }> {
  const response = await fetch(`${url}/health`);
  return { status: response.status, body: WorkerHealthSchema.parse(await response.json()) };
}

async function scrape(): Promise<Map<string, MetricFamily>> {
  const response = await fetch(`${worker.metricsUrl}/metrics`);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await response.text());
}

const value = (families: Map<string, MetricFamily>, name: string, sample = name) =>
  families.get(name)?.samples.find((s) => s.name === sample)?.value;

beforeAll(async () => {
  coordinator = await startFakeCoordinator({ token: TOKEN, config });
  ({ worker, stop } = await startTestWorker(coordinator, TOKEN, logger, { metricsPort: 0, healthPort: 0 }));
});

afterAll(() => stop());

describe('worker operations endpoints', () => {
  it('binds loopback, answers /health 200 while connected, and 404 elsewhere', async () => {
    expect(worker.healthUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(worker.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(worker.metricsUrl).not.toBe(worker.healthUrl);
    const { status, body } = await health(worker.healthUrl!);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      ok: true,
      connected: true,
      draining: false,
      workerId: worker.workerId,
      backend: 'cpu',
      slots: 1,
      membersHeld: 0,
      lastStepAgeMs: null,
    });
    expect((await fetch(`${worker.healthUrl}/metrics`)).status).toBe(404);
    expect((await fetch(`${worker.healthUrl}/health`, { method: 'POST' })).status).toBe(405);
  });

  it('counts the steps and samples of a member it trained, with its backend and process metrics', async () => {
    const a = coordinator.assignment(0, 'ops-0');
    coordinator.offer(a);
    await expectEventually(() => expect(coordinator.of('member:done', 'ops-0')).toHaveLength(1), 60_000);
    const families = await scrape();
    expect(families.get('chorus_worker_info')?.samples).toEqual([
      { name: 'chorus_worker_info', labels: { backend: 'cpu', device: worker.device }, value: 1 },
    ]);
    expect(families.get('chorus_worker_steps_total')?.type).toBe('counter');
    expect(value(families, 'chorus_worker_steps_total')).toBe(a.totalBatches);
    // Every step counted once in the step-time histogram.
    expect(families.get('chorus_worker_step_seconds')?.type).toBe('histogram');
    expect(value(families, 'chorus_worker_step_seconds', 'chorus_worker_step_seconds_count')).toBe(
      a.totalBatches,
    );
    const samples = value(families, 'chorus_worker_samples_total') ?? 0;
    // Round-robin over 2 members of the training rows, for 2 epochs: at most the rows ≤ trainLimit.
    expect(samples).toBeGreaterThan(0);
    expect(samples).toBeLessThanOrEqual(config.epochs * 1200);
    expect(value(families, 'chorus_worker_members_held')).toBe(0);
    // The member ended: its throughput left the sum.
    expect(value(families, 'chorus_worker_samples_per_second')).toBe(0);
    expect(value(families, 'chorus_worker_tensor_bytes')).toBeGreaterThanOrEqual(0);
    expect(families.has('chorus_worker_device_memory_bytes')).toBe(false); // cpu reports no GPU memory
    expect(families.get('process_resident_memory_bytes')?.samples).toHaveLength(1);
    const { body } = await health(worker.healthUrl!);
    expect(body.lastStepAgeMs).toBeGreaterThanOrEqual(0);
  });

  it('drains on worker:drain: releases its member at the next step with reason drain, asks for nothing, stops', async () => {
    coordinator.onReceive = ({ event, payload }) => {
      if (event === 'plan:next' && payload['memberId'] === 'ops-1' && payload['offset'] === 32) {
        coordinator.drain('an operator asked');
      }
    };
    coordinator.offer(coordinator.assignment(1, 'ops-1'));
    await worker.finished;
    coordinator.onReceive = null;
    expect(logs.some((l) => l['msg'] === 'draining: handing members back, then stopping')).toBe(true);
    const release = coordinator.of('member:release', 'ops-1');
    expect(release).toHaveLength(1);
    expect(release[0]?.payload).toMatchObject({ memberId: 'ops-1', attempt: 1, reason: 'drain' });
    const offset = release[0]?.payload['planOffset'] as number;
    expect(offset).toBeGreaterThan(0);
    expect(coordinator.of('checkpoint', 'ops-1').at(-1)?.payload['planOffset']).toBe(offset);
    const releasedAt = coordinator.received.indexOf(release[0]!);
    expect(coordinator.received.slice(releasedAt).filter((m) => m.event === 'member:request')).toEqual([]);
    // Closed: its servers no longer answer.
    await expect(fetch(`${worker.healthUrl}/health`)).rejects.toThrow();
  });
});

describe('a worker whose coordinator went away', () => {
  it('answers /health 503 with connected false', async () => {
    const away = await startFakeCoordinator({ token: TOKEN, config });
    const started = await startTestWorker(away, TOKEN, logger, { healthPort: 0 });
    try {
      expect((await health(started.worker.healthUrl!)).status).toBe(200);
      await away.close();
      await expectEventually(async () => {
        const { status, body } = await health(started.worker.healthUrl!);
        expect(status).toBe(503);
        expect(body).toMatchObject({ ok: false, connected: false, draining: false, membersHeld: 0 });
      }, 30_000);
    } finally {
      await started.stop().catch(() => undefined);
    }
  });
});
