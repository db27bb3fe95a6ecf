import type { XY } from './run-downsample';

/**
 * Members' training curves of one run, reduced for the Compare page: x is the position in training
 * in epochs (step ÷ the member's batches per epoch), so runs with different data sizes, batch sizes
 * or shardings line up; the members' batch metrics are averaged in equal bins of that axis (which
 * also smooths the per-batch noise), then averaged across the members that have points in the bin.
 * The best member (highest test accuracy) is binned the same way.
 */

export interface CurveMember {
  index: number;
  /** Mini-batches in the member's whole plan (all epochs), or null when unknown. */
  totalBatches: number | null;
  testAccuracy: number | null;
}

export interface CurvePoint {
  memberIndex: number;
  step: number;
  loss: number;
  accuracy: number;
}

export interface RunCurves {
  mean: { accuracy: XY[]; loss: XY[] };
  best: { index: number; accuracy: XY[]; loss: XY[] } | null;
  epochs: number;
}

export const CURVE_BINS = 120;

/** The member with the highest test accuracy (lowest index on ties), or null when none has one. */
export function bestMemberIndex(members: readonly CurveMember[]): number | null {
  let best: CurveMember | null = null;
  for (const m of members) {
    if (m.testAccuracy === null || !Number.isFinite(m.testAccuracy)) continue;
    if (
      best === null ||
      m.testAccuracy! > best.testAccuracy! ||
      (m.testAccuracy === best.testAccuracy && m.index < best.index)
    )
      best = m;
  }
  return best?.index ?? null;
}

interface Binned {
  accuracy: Map<number, number>;
  loss: Map<number, number>;
}

/** One member's points averaged per bin of [0, epochs]. */
function binMember(points: readonly CurvePoint[], perEpoch: number, epochs: number, bins: number): Binned {
  const width = epochs / bins;
  const sums = new Map<number, { acc: number; loss: number; n: number }>();
  for (const p of points) {
    if (!Number.isFinite(p.accuracy) || !Number.isFinite(p.loss)) continue;
    const x = p.step / perEpoch;
    const bin = Math.min(bins - 1, Math.max(0, Math.floor(x / width)));
    const s = sums.get(bin) ?? { acc: 0, loss: 0, n: 0 };
    s.acc += p.accuracy;
    s.loss += p.loss;
    s.n += 1;
    sums.set(bin, s);
  }
  const out: Binned = { accuracy: new Map(), loss: new Map() };
  for (const [bin, s] of sums) {
    out.accuracy.set(bin, s.acc / s.n);
    out.loss.set(bin, s.loss / s.n);
  }
  return out;
}

const toSeries = (values: Map<number, number>, width: number): XY[] =>
  [...values.entries()].sort(([a], [b]) => a - b).map(([bin, y]) => [(bin + 0.5) * width, y] as const);

export function runCurves(
  members: readonly CurveMember[],
  points: readonly CurvePoint[],
  epochs: number,
  bins = CURVE_BINS,
): RunCurves {
  const safeEpochs = Number.isFinite(epochs) && epochs > 0 ? epochs : 1;
  const width = safeEpochs / bins;
  const byMember = new Map<number, CurvePoint[]>();
  for (const p of points) {
    const list = byMember.get(p.memberIndex) ?? [];
    list.push(p);
    byMember.set(p.memberIndex, list);
  }
  const binned = new Map<number, Binned>();
  for (const [index, list] of byMember) {
    const member = members.find((m) => m.index === index);
    // Without the plan's length, the member's own last step stands for the end of training.
    const total = member?.totalBatches ?? Math.max(1, ...list.map((p) => p.step));
    binned.set(index, binMember(list, total / safeEpochs, safeEpochs, bins));
  }

  const mean = (pick: (b: Binned) => Map<number, number>) => {
    const acc = new Map<number, { sum: number; n: number }>();
    for (const b of binned.values()) {
      for (const [bin, y] of pick(b)) {
        const s = acc.get(bin) ?? { sum: 0, n: 0 };
        s.sum += y;
        s.n += 1;
        acc.set(bin, s);
      }
    }
    return toSeries(new Map([...acc].map(([bin, s]) => [bin, s.sum / s.n])), width);
  };

  const bestIndex = bestMemberIndex(members);
  const bestBinned = bestIndex === null ? undefined : binned.get(bestIndex);
  return {
    epochs: safeEpochs,
    mean: { accuracy: mean((b) => b.accuracy), loss: mean((b) => b.loss) },
    best:
      bestIndex === null || !bestBinned
        ? null
        : {
            index: bestIndex,
            accuracy: toSeries(bestBinned.accuracy, width),
            loss: toSeries(bestBinned.loss, width),
          },
  };
}
