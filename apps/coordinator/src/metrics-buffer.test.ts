import { describe, expect, it } from 'vitest';
import { LIVE_CURVE_POINTS, liveCurve } from './metrics-buffer';

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
