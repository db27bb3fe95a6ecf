import type { XY } from '@chorus/protocol';

/**
 * Largest-Triangle-Three-Buckets downsampling (Steinarsson 2013): keeps the first and last points
 * and, from each of `threshold − 2` equal buckets in between, the point that forms the largest
 * triangle with the point kept before it and the mean of the next bucket — the shape of a training
 * curve survives with a few hundred points. The same rule as ECharts' `sampling: 'lttb'`, applied
 * on the server so that long runs do not ship every step to the browser.
 */
/** A chart point [x, y]: libs/protocol's XYSchema (the run page's answers carry curves of them). */
export type { XY };

/** Indices (ascending) of the points LTTB keeps; all of them when there are at most `threshold`. */
export function lttbIndices(points: readonly XY[], threshold: number): number[] {
  const n = points.length;
  if (!Number.isInteger(threshold) || threshold < 3)
    throw new RangeError(`threshold must be an integer ≥ 3, got ${threshold}`);
  if (n <= threshold) return points.map((_, i) => i);
  const kept = [0];
  const every = (n - 2) / (threshold - 2);
  let a = 0;
  for (let bucket = 0; bucket < threshold - 2; bucket++) {
    const start = Math.floor(bucket * every) + 1;
    const end = Math.floor((bucket + 1) * every) + 1;
    // Mean of the next bucket (the last point for the last bucket).
    const nextStart = end;
    const nextEnd = Math.min(Math.floor((bucket + 2) * every) + 1, n);
    let meanX = 0;
    let meanY = 0;
    for (let i = nextStart; i < nextEnd; i++) {
      meanX += (points[i] as XY)[0];
      meanY += (points[i] as XY)[1];
    }
    const size = nextEnd - nextStart;
    meanX /= size;
    meanY /= size;
    const [ax, ay] = points[a] as XY;
    let best = start;
    let bestArea = -1;
    for (let i = start; i < end; i++) {
      const [bx, by] = points[i] as XY;
      const area = Math.abs((ax - meanX) * (by - ay) - (ax - bx) * (meanY - ay));
      if (area > bestArea) {
        bestArea = area;
        best = i;
      }
    }
    kept.push(best);
    a = best;
  }
  kept.push(n - 1);
  return kept;
}

/** The points LTTB keeps (the input itself when it is short enough). */
export function downsample<T extends XY>(points: readonly T[], threshold: number): T[] {
  if (points.length <= threshold) return [...points];
  return lttbIndices(points, threshold).map((i) => points[i] as T);
}
