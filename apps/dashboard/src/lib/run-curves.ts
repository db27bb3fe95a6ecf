import type { MemberCurve, MemberMetrics } from '@chorus/protocol';
import { downsample, type XY } from './run-downsample';

/**
 * Members' training curves (x = step, one mini-batch per step): loaded from the MetricPoint rows
 * (downsampled), then extended live from the coordinator's `metrics` notifications (MemberMetrics,
 * libs/protocol coordinator-to-dashboard.ts). MemberCurve is libs/protocol's MemberCurveSchema.
 */
export type { MemberCurve };

/** Points per member and metric sent to the browser: 16 members × 2 charts stay smooth. */
export const MAX_POINTS_PER_MEMBER = 500;

export interface MetricRow {
  memberIndex: number;
  step: number;
  loss: number;
  accuracy: number;
}

/** Rows ordered by member then step (MetricRepository.listForRun) → one downsampled curve per member. */
export function curvesFromPoints(
  rows: readonly MetricRow[],
  maxPoints = MAX_POINTS_PER_MEMBER,
): MemberCurve[] {
  const byMember = new Map<number, { loss: XY[]; accuracy: XY[] }>();
  for (const row of rows) {
    let curve = byMember.get(row.memberIndex);
    if (!curve) byMember.set(row.memberIndex, (curve = { loss: [], accuracy: [] }));
    curve.loss.push([row.step, row.loss]);
    curve.accuracy.push([row.step, row.accuracy]);
  }
  return [...byMember.entries()]
    .sort(([a], [b]) => a - b)
    .map(([index, c]) => ({
      index,
      loss: downsample(c.loss, maxPoints),
      accuracy: downsample(c.accuracy, maxPoints),
    }));
}

/**
 * Appends live points (a point at or before a curve's last step is a repeat and is skipped). A
 * curve that grows past twice `maxPoints` is downsampled again, so a long live session stays light.
 */
export function appendMetrics(
  curves: readonly MemberCurve[],
  updates: readonly MemberMetrics[],
  maxPoints = MAX_POINTS_PER_MEMBER,
): MemberCurve[] {
  if (updates.length === 0) return [...curves];
  const next = new Map(curves.map((c) => [c.index, c]));
  for (const u of updates) {
    const curve = next.get(u.index) ?? { index: u.index, loss: [], accuracy: [] };
    const lastStep = curve.loss.at(-1)?.[0] ?? -Infinity;
    const fresh = (u.curve ?? [[u.step, u.loss, u.accuracy]]).filter(([step]) => step > lastStep);
    if (fresh.length === 0) continue;
    const grow = (series: XY[], pick: 1 | 2) => {
      const longer: XY[] = [...series, ...fresh.map((p): XY => [p[0], p[pick]])];
      return longer.length > 2 * maxPoints ? downsample(longer, maxPoints) : longer;
    };
    next.set(u.index, { index: u.index, loss: grow(curve.loss, 1), accuracy: grow(curve.accuracy, 2) });
  }
  return [...next.values()].sort((a, b) => a.index - b.index);
}

/** The members' table rows after a `metrics` notification: progress only moves forward. */
export function applyMetricsToMembers<
  M extends {
    index: number;
    step: number;
    epoch: number;
    samplesPerSecond: number | null;
    totalBatches: number | null;
    progress: number | null;
  },
>(members: readonly M[], updates: readonly MemberMetrics[]): M[] {
  return members.map((m) => {
    const u = updates.find((x) => x.index === m.index);
    if (!u || u.step < m.step) return m;
    const progress = m.totalBatches ? Math.min(1, u.step / m.totalBatches) : m.progress;
    return { ...m, step: u.step, epoch: u.epoch, samplesPerSecond: u.samplesPerSecond, progress };
  });
}
