import { describe, expect, it } from 'vitest';
import { downsample, lttbIndices, type XY } from './run-downsample';

describe('LTTB downsampling', () => {
  it('keeps the ends and, per bucket, the point of the largest triangle (worked by hand)', () => {
    // One bucket (indices 1–3) between the ends; the next "bucket" is the last point (4, 0).
    // Area with a = (0,0), c = (4,0): |(0−4)(y_b − 0) − (0 − x_b)(0 − 0)| = 4·|y_b| → 4, 0, 4: index 1 (first of the ties).
    const points: XY[] = [
      [0, 0],
      [1, 1],
      [2, 0],
      [3, 1],
      [4, 0],
    ];
    expect(lttbIndices(points, 3)).toEqual([0, 1, 4]);
    expect(downsample(points, 3)).toEqual([
      [0, 0],
      [1, 1],
      [4, 0],
    ]);
  });

  it('picks the spike of a flat series and returns the input when it is short enough', () => {
    // 8 points, threshold 4: every = 6/2 = 3 → buckets 1–3 and 4–6.
    // Bucket 1: a = (0,0), next mean = (5, −8/3): areas 2.67, 30.33, 8 → index 2.
    // Bucket 2: a = (2,5), next = (7,0): (4,0) → |(−5)(−5) − (−2)(−5)| = 15, (5,0) → 10, (6,−8) → |65 − 20| = 45 → index 6.
    const flat: XY[] = [
      [0, 0],
      [1, 0],
      [2, 5],
      [3, 0],
      [4, 0],
      [5, 0],
      [6, -8],
      [7, 0],
    ];
    expect(lttbIndices(flat, 4)).toEqual([0, 2, 6, 7]);
    expect(downsample(flat, 8)).toEqual(flat);
    expect(() => lttbIndices(flat, 2)).toThrow(/threshold/);
  });

  it('bounds a long series to the threshold and keeps its order', () => {
    const long: XY[] = Array.from({ length: 10_000 }, (_, i) => [
      i + 1,
      Math.exp(-i / 2000) + ((i * 7919) % 13) / 100,
    ]);
    const kept = lttbIndices(long, 500);
    expect(kept).toHaveLength(500);
    expect(kept[0]).toBe(0);
    expect(kept.at(-1)).toBe(9_999);
    expect(kept.every((v, i) => i === 0 || v > (kept[i - 1] as number))).toBe(true);
  });
});
