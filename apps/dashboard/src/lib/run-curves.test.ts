import { describe, expect, it } from 'vitest';
import { appendMetrics, applyMetricsToMembers, curvesFromPoints } from './run-curves';

const point = (index: number, step: number) => ({
  index,
  step,
  epoch: 0,
  loss: 1 / step,
  accuracy: step / 100,
  samplesPerSecond: 50,
});

describe('member curves', () => {
  it('groups rows by member, in step order, and downsamples each curve', () => {
    const rows = [
      { memberIndex: 1, step: 1, loss: 2, accuracy: 0.1 },
      { memberIndex: 0, step: 1, loss: 3, accuracy: 0.2 },
      { memberIndex: 0, step: 2, loss: 1, accuracy: 0.4 },
    ];
    expect(curvesFromPoints(rows)).toEqual([
      {
        index: 0,
        loss: [
          [1, 3],
          [2, 1],
        ],
        accuracy: [
          [1, 0.2],
          [2, 0.4],
        ],
      },
      { index: 1, loss: [[1, 2]], accuracy: [[1, 0.1]] },
    ]);
    const long = Array.from({ length: 2000 }, (_, i) => ({
      memberIndex: 0,
      step: i + 1,
      loss: 1 / (i + 1),
      accuracy: 0.5,
    }));
    const [curve] = curvesFromPoints(long, 100);
    expect(curve?.loss).toHaveLength(100);
    expect(curve?.loss[0]).toEqual([1, 1]);
    expect(curve?.loss.at(-1)).toEqual([2000, 1 / 2000]);
  });

  it('appends live points, skips repeats and starts curves for new members', () => {
    const start = curvesFromPoints([{ memberIndex: 0, step: 5, loss: 0.2, accuracy: 0.05 }]);
    const next = appendMetrics(start, [point(0, 5), point(0, 6), point(2, 1)]);
    expect(next.map((c) => [c.index, c.loss.map(([x]) => x)])).toEqual([
      [0, [5, 6]],
      [2, [1]],
    ]);
    expect(start[0]?.loss).toHaveLength(1); // not mutated
  });

  it("appends every point of a flush's curve, after the curve's last step", () => {
    const start = curvesFromPoints([{ memberIndex: 1, step: 4, loss: 0.9, accuracy: 0.1 }]);
    const flush = {
      ...point(1, 8),
      curve: [
        [3, 1, 0],
        [4, 0.9, 0.1],
        [6, 0.7, 0.3],
        [8, 0.5, 0.5],
      ] as Array<[number, number, number]>,
    };
    const [curve] = appendMetrics(start, [flush]);
    expect(curve?.loss).toEqual([
      [4, 0.9],
      [6, 0.7],
      [8, 0.5],
    ]);
    expect(curve?.accuracy.map(([, y]) => y)).toEqual([0.1, 0.3, 0.5]);
  });

  it('downsamples a live curve that outgrows twice the limit', () => {
    let curves = appendMetrics([], [point(0, 1)], 4);
    for (let step = 2; step <= 9; step++) curves = appendMetrics(curves, [point(0, step)], 4);
    // 8 points are kept as they are; the 9th makes 9 > 2·4, downsampled to 4 (first and last kept).
    expect(curves[0]?.loss).toHaveLength(4);
    expect(curves[0]?.loss[0]?.[0]).toBe(1);
    expect(curves[0]?.loss.at(-1)?.[0]).toBe(9);
  });

  it('moves the members table forward only', () => {
    const members = [
      {
        index: 0,
        step: 10,
        epoch: 1,
        samplesPerSecond: 1,
        totalBatches: 40,
        progress: 0.25,
        status: 'running',
      },
      {
        index: 1,
        step: 3,
        epoch: 0,
        samplesPerSecond: null,
        totalBatches: null,
        progress: null,
        status: 'leased',
      },
    ];
    const next = applyMetricsToMembers(members, [point(0, 8), point(1, 4)]);
    expect(next[0]).toBe(members[0]);
    expect(next[1]).toMatchObject({
      step: 4,
      epoch: 0,
      samplesPerSecond: 50,
      progress: null,
      status: 'leased',
    });
    expect(applyMetricsToMembers(members, [point(0, 20)])[0]).toMatchObject({ step: 20, progress: 0.5 });
  });
});
