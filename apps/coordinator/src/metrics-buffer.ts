import type { Logger } from 'pino';
import type { Member, MemberProgress, MetricPointInput, Repositories } from '@chorus/db';
import type { MetricsMessage } from '@chorus/protocol';
import type { Notifiers } from './notifications';
import type { PlanService } from './services/plan.service';

/**
 * Training metrics arrive often and from every worker: they are acknowledged at once, kept here
 * and written in batches (one INSERT per flush, duplicates skipped by the database), together with
 * the members' progress (one UPDATE per flush for all of them); dashboards get one `metrics` notification per run and flush.
 * A crash loses at most one flush interval of points (they are curves, not state).
 */
export interface MetricsBuffer {
  add(member: BufferedMember, workerId: string, points: MetricsMessage['points']): void;
  /** Writes what is buffered now (flushes never overlap). */
  flush(): Promise<void>;
  /** Stops the timer and flushes. */
  close(): Promise<void>;
}

/** What the buffer needs of a member (the lease table's entry, or the Member row). */
export type BufferedMember = Pick<Member, 'id' | 'runId' | 'index'>;

interface Pending {
  member: BufferedMember;
  workerId: string;
  points: MetricPointInput[];
}

export function createMetricsBuffer(deps: {
  repos: Repositories;
  plans: PlanService;
  notify: Notifiers;
  logger: Logger;
  clock: () => Date;
  flushMs?: number;
  maxPoints?: number;
}): MetricsBuffer {
  const flushMs = deps.flushMs ?? 500;
  const maxPoints = deps.maxPoints ?? 2_000;
  let pending = new Map<string, Pending>();
  let count = 0;
  let chain: Promise<void> = Promise.resolve();

  const write = async (batch: Map<string, Pending>): Promise<void> => {
    const all = [...batch.values()].flatMap((p) => p.points);
    if (all.length === 0) return;
    await deps.repos.metrics.insert(all);
    const byRun = new Map<string, Array<Record<string, unknown>>>();
    const progress: MemberProgress[] = [];
    for (const { member, workerId, points } of batch.values()) {
      if (points.length === 0) continue;
      const last = points.reduce((a, b) => (b.step > a.step ? b : a));
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
      const list = byRun.get(member.runId) ?? [];
      list.push({
        index: member.index,
        step: last.step,
        epoch: last.epoch,
        loss: last.loss,
        accuracy: last.accuracy,
        samplesPerSecond: last.samplesPerSecond,
        // Every point of this flush (at most LIVE_CURVE_POINTS, evenly spread), so live curves are curves.
        curve: liveCurve(points),
      });
      byRun.set(member.runId, list);
    }
    // Still under the lease and never backwards (checked by the database, member by member).
    await deps.repos.members.recordProgressMany(progress);
    for (const [runId, members] of byRun) {
      deps.notify.dashboards.runChanged({ runId, kind: 'metrics', data: { members } });
    }
  };

  const flush = (): Promise<void> => {
    chain = chain.then(async () => {
      if (count === 0) return;
      const batch = pending;
      pending = new Map();
      count = 0;
      try {
        await write(batch);
      } catch (error) {
        deps.logger.error({ err: error }, 'writing metrics failed; the batch is dropped');
      }
    });
    return chain;
  };

  const timer = setInterval(() => void flush(), flushMs);
  timer.unref();

  return {
    add(member, workerId, points) {
      const entry = pending.get(member.id) ?? { member, workerId, points: [] };
      const createdAt = deps.clock();
      for (const p of points) {
        // A retried message: the database would skip it, but it should not count twice here.
        if (entry.points.some((q) => q.step === p.step)) continue;
        entry.points.push({ memberId: member.id, ...p, createdAt });
      }
      pending.set(member.id, entry);
      count += points.length;
      if (count >= maxPoints) void flush();
    },
    flush,
    async close() {
      clearInterval(timer);
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
