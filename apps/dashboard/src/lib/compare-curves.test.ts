import { describe, expect, it } from 'vitest';
import { bestMemberIndex, runCurves, type CurvePoint } from './compare-curves';

const points = (memberIndex: number, accuracy: number[], loss: number[]): CurvePoint[] =>
  accuracy.map((a, i) => ({ memberIndex, step: i + 1, accuracy: a, loss: loss[i] ?? 0 }));

describe('runCurves', () => {
  it('bins each member on the epoch axis, then averages across members', () => {
    // One epoch of 4 batches: x = step / 4 = 0.25, 0.5, 0.75, 1 → bins [0, 0.5) and [0.5, 1] (the end is kept in the last bin).
    const curves = runCurves(
      [
        { index: 0, totalBatches: 4, testAccuracy: 0.7 },
        { index: 1, totalBatches: 4, testAccuracy: 0.8 },
      ],
      [
        ...points(0, [0.1, 0.2, 0.3, 0.4], [2, 1.5, 1, 0.5]),
        ...points(1, [0.3, 0.4, 0.5, 0.6], [1, 1, 1, 1]),
      ],
      1,
      2,
    );
    // member 0: bin 0 → 0.1, bin 1 → (0.2+0.3+0.4)/3 = 0.3; member 1: 0.3 and 0.5. Means: 0.2 and 0.4.
    expect(curves.mean.accuracy.map(([x]) => x)).toEqual([0.25, 0.75]);
    expect(curves.mean.accuracy[0]?.[1]).toBeCloseTo(0.2, 12);
    expect(curves.mean.accuracy[1]?.[1]).toBeCloseTo(0.4, 12);
    // loss: member 0 → 2 and 1; member 1 → 1 and 1; means 1.5 and 1.
    expect(curves.mean.loss).toEqual([
      [0.25, 1.5],
      [0.75, 1],
    ]);
    expect(curves.best?.index).toBe(1);
    expect(curves.best?.accuracy[1]?.[1]).toBeCloseTo(0.5, 12);
  });

  it('lines up members with different plan lengths on the epoch axis', () => {
    // Two epochs; member 0 has 8 batches (4 per epoch), member 1 has 4 (2 per epoch).
    const curves = runCurves(
      [
        { index: 0, totalBatches: 8, testAccuracy: null },
        { index: 1, totalBatches: 4, testAccuracy: null },
      ],
      [...points(0, [0, 0, 0, 0, 1, 1, 1, 1], []), ...points(1, [0, 0, 1, 1], [])],
      2,
      2,
    );
    // Bin 0 = epoch [0, 1): member 0 steps 1–3 (x 0.25–0.75) → 0, member 1 step 1 (x 0.5) → 0.
    // Bin 1 = [1, 2]: member 0 steps 4–8 → (0+1+1+1+1)/5 = 0.8; member 1 steps 2–4 → (0+1+1)/3.
    expect(curves.mean.accuracy[0]).toEqual([0.5, 0]);
    expect(curves.mean.accuracy[1]?.[1]).toBeCloseTo((0.8 + 2 / 3) / 2, 12);
    expect(curves.best).toBeNull();
  });

  it('picks the best member by test accuracy, the lower index on ties', () => {
    expect(
      bestMemberIndex([
        { index: 2, totalBatches: 1, testAccuracy: 0.9 },
        { index: 0, totalBatches: 1, testAccuracy: 0.9 },
        { index: 1, totalBatches: 1, testAccuracy: null },
      ]),
    ).toBe(0);
    expect(bestMemberIndex([])).toBeNull();
  });
});
