import type { Logger } from 'pino';
import type { Member, MemberProgress, MetricPointInput, Repositories } from '@chorus/db';
import type { MemberMetrics, MetricsMessage } from '@chorus/protocol';
import type { Notifiers } from './notifications';
import type { CoordinatorTelemetry } from './telemetry';
import type { PlanService } from './services/plan.service';

/**
 * Training metrics arrive often and from every worker: they are acknowledged at once and kept here.
 * Two cadences:
 * - every `notifyMs` (default 500 ms) dashboards get one `metrics` notification per run for the
 *   members with new points: their latest values and, as the live curve, every point not yet
 *   written (thinned to LIVE_CURVE_POINTS). Repeating the unwritten points makes a page that loads
 *   between a write and a notification whole again with the next notification (it skips repeats);
 * - every `flushMs` (default 2 s), or as soon as `maxPoints` (default 500) are waiting, the points
 *   are written in one INSERT (duplicates skipped by the database), together with the members'
 *   progress (one UPDATE for all of them).
 * A member's `member:done` flushes at once, so its last points and progress are stored before it
 * closes. Writing less often than notifying keeps the embedded database, which runs inside the
 * coordinator process, off the CPU that the workers train on (bench/cluster.bench.ts). A crash
 * loses at most one write interval of points (they are curves, not state).
 */
export interface MetricsBuffer {
  add(member: BufferedMember, workerId: string, points: MetricsMessage['points']): void;
  /** Notifies and writes what is buffered now (flushes never overlap). */
  flush(): Promise<void>;
  /** Stops the timers and flushes. */
  close(): Promise<void>;
}

/** What the buffer needs of a member (the lease table's entry, or the Member row). */
export type BufferedMember = Pick<Member, 'id' | 'runId' | 'index'>;

interface Pending {
  member: BufferedMember;
  workerId: string;
  points: MetricPointInput[];
}

/** The point with the highest step. */
const lastOf = (points: readonly MetricPointInput[]): MetricPointInput | undefined =>
  points.reduce<MetricPointInput | undefined>(
    (a, b) => (a === undefined || b.step > a.step ? b : a),
    undefined,
  );

export function createMetricsBuffer(deps: {
  repos: Repositories;
  plans: PlanService;
  notify: Notifiers;
  logger: Logger;
  clock: () => Date;
  /** How often points and progress are written (default 2 s). */
  flushMs?: number;
  /** How often dashboards are told (default 500 ms, never less often than flushMs). */
  notifyMs?: number;
  maxPoints?: number;
  telemetry?: CoordinatorTelemetry;
}): MetricsBuffer {
  const flushMs = deps.flushMs ?? 2_000;
  const notifyMs = Math.min(deps.notifyMs ?? 500, flushMs);
  // Under many workers a batch is written as soon as it holds this many points, so no single
  // INSERT grows large enough to hold up the acknowledgements of everyone else.
  const maxPoints = deps.maxPoints ?? 500;
  /** Points not yet written, by member id. */
  let pending = new Map<string, Pending>();
  /** Members with points that dashboards have not been told of. */
  let unnotified = new Set<string>();
  let count = 0;
  let chain: Promise<void> = Promise.resolve();

  const notifyNew = (): void => {
    if (unnotified.size === 0) return;
    const byRun = new Map<string, MemberMetrics[]>();
    for (const id of unnotified) {
      const entry = pending.get(id);
      const last = entry && lastOf(entry.points);
      if (!entry || !last) continue;
      const list = byRun.get(entry.member.runId) ?? [];
      list.push({
        index: entry.member.index,
        step: last.step,
        epoch: last.epoch,
        loss: last.loss,
        accuracy: last.accuracy,
        samplesPerSecond: last.samplesPerSecond,
        curve: liveCurve(entry.points),
      });
      byRun.set(entry.member.runId, list);
    }
    unnotified = new Set();
    for (const [runId, members] of byRun) {
      deps.notify.dashboards.runChanged({ runId, kind: 'metrics', data: { members } });
    }
  };

  const write = async (batch: Map<string, Pending>): Promise<void> => {
    const all = [...batch.values()].flatMap((p) => p.points);
    if (all.length === 0) return;
    await deps.repos.metrics.insert(all);
    const progress: MemberProgress[] = [];
    for (const { member, workerId, points } of batch.values()) {
      const last = lastOf(points);
      if (!last) continue;
      const data = await deps.plans.forRun(member.runId);
      // A step is one mini-batch of the member's plan, so its plan offset is its step.
      progress.push({
        memberId: member.id,
        workerId,
        step: last.step,
        epoch: last.epoch,
        planOffset: last.step,
        samples: deps.plans.samplesThrough(data, member.index, last.step),
        samplesPerSecond: last.samplesPerSecond,
      });
    }
    // Still under the lease and never backwards (checked by the database, member by member).
    await deps.repos.members.recordProgressMany(progress);
  };

  /**
   * One write for the batch; when it fails, one write per member, so that one member's bad points
   * (whatever slipped past the checks at the boundary) never drop the other members' points.
   * Rewriting is safe: points are unique on (member, step) and progress never goes backwards.
   */
  const writeSurviving = async (batch: Map<string, Pending>): Promise<void> => {
    try {
      await write(batch);
      return;
    } catch (error) {
      if (batch.size <= 1) {
        deps.logger.error({ err: error }, "writing metrics failed; the member's points are dropped");
        return;
      }
      deps.logger.warn(
        { err: error, members: batch.size },
        'writing metrics failed; writing member by member',
      );
    }
    for (const [memberId, entry] of batch) {
      try {
        await write(new Map([[memberId, entry]]));
      } catch (error) {
        deps.logger.error(
          { err: error, memberId },
          "writing metrics failed; this member's points are dropped",
        );
      }
    }
  };

  /** A flush that is queued and has not started: later calls join it rather than queue more. */
  let queued = false;
  const flush = (): Promise<void> => {
    if (queued) return chain;
    queued = true;
    chain = chain.then(async () => {
      queued = false;
      notifyNew();
      if (count === 0) return;
      const batch = pending;
      pending = new Map();
      count = 0;
      const stopTimer = deps.telemetry?.metricsFlushSeconds.startTimer();
      await writeSurviving(batch);
      stopTimer?.();
      deps.telemetry?.metricsBufferPoints.set(count);
    });
    return chain;
  };

  const notifyTimer = setInterval(notifyNew, notifyMs);
  notifyTimer.unref();
  const flushTimer = setInterval(() => void flush(), flushMs);
  flushTimer.unref();

  return {
    add(member, workerId, points) {
      const entry = pending.get(member.id) ?? { member, workerId, points: [] };
      const createdAt = deps.clock();
      let added = 0;
      for (const p of points) {
        // A retried message: the database would skip it, but it should not count twice here.
        if (entry.points.some((q) => q.step === p.step)) continue;
        entry.points.push({ memberId: member.id, ...p, createdAt });
        added++;
      }
      pending.set(member.id, entry);
      if (added > 0) unnotified.add(member.id);
      count += added;
      deps.telemetry?.metricsBufferPoints.set(count);
      if (count >= maxPoints) void flush();
    },
    flush,
    async close() {
      clearInterval(notifyTimer);
      clearInterval(flushTimer);
      await flush();
    },
  };
}

/** Points per member and flush that a `metrics` notification carries for the live curves. */
export const LIVE_CURVE_POINTS = 50;

/** `[step, loss, accuracy]` of the points in step order, thinned evenly to LIVE_CURVE_POINTS (the last kept). */
export function liveCurve(points: readonly MetricPointInput[]): Array<[number, number, number]> {
  const sorted = [...points].sort((a, b) => a.step - b.step);
  const stride = Math.max(1, Math.ceil(sorted.length / LIVE_CURVE_POINTS));
  const kept = sorted.filter((_, i) => (sorted.length - 1 - i) % stride === 0);
  return kept.map((p) => [p.step, p.loss, p.accuracy]);
}
