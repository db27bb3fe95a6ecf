import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { MemberProgress, MetricPointInput, Repositories } from '@chorus/db';
import { createMetricsBuffer, LIVE_CURVE_POINTS, liveCurve } from './metrics-buffer';
import type { Notifiers } from './notifications';
import type { PlanService } from './services/plan.service';

const point = (step: number) => ({
  memberId: 'm',
  step,
  epoch: 0,
  loss: 1 / step,
  accuracy: step / 1000,
  samplesPerSecond: 1,
});

describe('liveCurve', () => {
  it("is a flush's points in step order as [step, loss, accuracy]", () => {
    expect(liveCurve([point(3), point(1), point(2)])).toEqual([
      [1, 1, 0.001],
      [2, 0.5, 0.002],
      [3, 1 / 3, 0.003],
    ]);
  });

  it('thins a long flush evenly to at most LIVE_CURVE_POINTS, keeping the last point', () => {
    const curve = liveCurve(Array.from({ length: 1000 }, (_, i) => point(i + 1)));
    expect(curve.length).toBeLessThanOrEqual(LIVE_CURVE_POINTS);
    expect(curve.length).toBeGreaterThan(LIVE_CURVE_POINTS / 2);
    expect(curve.at(-1)?.[0]).toBe(1000);
    const steps = curve.map(([s]) => s);
    const gaps = new Set(steps.slice(1).map((s, i) => s - (steps[i] as number)));
    expect(gaps).toEqual(new Set([20])); // every 20th point: 1000 / 50
  });
});

describe('createMetricsBuffer', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A buffer over recording fakes of the repositories, plans and notifiers. */
  function setup(options: { flushMs?: number; notifyMs?: number; maxPoints?: number } = {}) {
    const inserted: MetricPointInput[][] = [];
    const progress: MemberProgress[][] = [];
    const notified: Array<{
      runId: string;
      members: Array<{ index: number; step: number; curve: number[][] }>;
    }> = [];
    const repos = {
      metrics: { insert: async (points: MetricPointInput[]) => void inserted.push(points) },
      members: { recordProgressMany: async (p: MemberProgress[]) => void progress.push(p) },
    } as unknown as Repositories;
    const plans = {
      forRun: async () => ({}),
      samplesThrough: (_data: unknown, _index: number, steps: number) => steps * 64,
    } as unknown as PlanService;
    const notify = {
      dashboards: {
        runChanged: (n: { runId: string; kind: string; data: { members: never[] } }) => {
          if (n.kind === 'metrics') notified.push({ runId: n.runId, members: n.data.members });
        },
      },
    } as unknown as Notifiers;
    const buffer = createMetricsBuffer({
      repos,
      plans,
      notify,
      logger: pino({ level: 'silent' }),
      clock: () => new Date(0),
      ...options,
    });
    return { buffer, inserted, progress, notified };
  }
  const member = { id: 'm0', runId: 'r', index: 0 };
  /** Metric points of steps from..to, as a worker sends them. */
  const points = (from: number, to: number) =>
    Array.from({ length: to - from + 1 }, (_, i) => {
      const { memberId: _member, ...p } = point(from + i);
      return p;
    });

  it('tells dashboards every notifyMs and writes every flushMs (defaults 500 ms and 2 s)', async () => {
    vi.useFakeTimers();
    const { buffer, inserted, progress, notified } = setup();
    buffer.add(member, 'w', points(1, 3));
    await vi.advanceTimersByTimeAsync(500);
    expect(notified).toHaveLength(1);
    expect(notified[0]?.members[0]).toMatchObject({ index: 0, step: 3 });
    expect(notified[0]?.members[0]?.curve.map(([s]) => s)).toEqual([1, 2, 3]);
    expect(inserted).toHaveLength(0);

    // Nothing new: no notification. New points: the curve repeats every point not yet written.
    await vi.advanceTimersByTimeAsync(500);
    expect(notified).toHaveLength(1);
    buffer.add(member, 'w', points(4, 5));
    await vi.advanceTimersByTimeAsync(500);
    expect(notified).toHaveLength(2);
    expect(notified[1]?.members[0]?.curve.map(([s]) => s)).toEqual([1, 2, 3, 4, 5]);
    expect(inserted).toHaveLength(0);

    await vi.advanceTimersByTimeAsync(500); // t = 2 s: written once, with the progress
    expect(inserted.map((batch) => batch.map((p) => p.step))).toEqual([[1, 2, 3, 4, 5]]);
    expect(progress).toEqual([
      [expect.objectContaining({ memberId: 'm0', workerId: 'w', step: 5, planOffset: 5, samples: 320 })],
    ]);
    buffer.add(member, 'w', points(6, 6));
    await vi.advanceTimersByTimeAsync(500);
    expect(notified[2]?.members[0]?.curve.map(([s]) => s)).toEqual([6]);
    await buffer.close();
  });

  it('flush() notifies and writes at once; a retried message counts once', async () => {
    vi.useFakeTimers();
    const { buffer, inserted, notified } = setup({ flushMs: 60_000, notifyMs: 60_000 });
    buffer.add(member, 'w', points(1, 2));
    buffer.add(member, 'w', points(1, 2));
    buffer.add({ id: 'm1', runId: 'r', index: 1 }, 'w2', points(1, 1));
    await buffer.flush();
    expect(notified).toHaveLength(1);
    expect(notified[0]?.members.map((m) => [m.index, m.step])).toEqual([
      [0, 2],
      [1, 1],
    ]);
    expect(inserted[0]?.map((p) => [p.memberId, p.step])).toEqual([
      ['m0', 1],
      ['m0', 2],
      ['m1', 1],
    ]);
    await buffer.flush();
    expect(inserted).toHaveLength(1);
    expect(notified).toHaveLength(1);
    await buffer.close();
  });

  it('writes as soon as maxPoints wait, one batch however many messages arrive meanwhile', async () => {
    vi.useFakeTimers();
    const { buffer, inserted } = setup({ flushMs: 60_000, notifyMs: 60_000, maxPoints: 10 });
    buffer.add(member, 'w', points(1, 9));
    await vi.advanceTimersByTimeAsync(0);
    expect(inserted).toHaveLength(0);
    buffer.add(member, 'w', points(10, 12)); // 12 ≥ 10: a flush is queued
    buffer.add(member, 'w', points(13, 25)); // joins the queued flush
    buffer.add({ id: 'm1', runId: 'r', index: 1 }, 'w', points(1, 30));
    await vi.advanceTimersByTimeAsync(0);
    expect(inserted.map((batch) => batch.length)).toEqual([55]);
    await buffer.close();
  });
});
