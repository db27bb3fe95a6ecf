import type { DatasetPreprocess, Normalization } from '@chorus/protocol';
import type { Split } from './types';

/**
 * Rescales every feature of `train` and `test` in place with statistics of `train` alone (the test
 * split must not leak into them) and returns what was done, for the dataset's `preprocess`.
 * standard: (x − mean) / std (population std); minmax: (x − min) / (max − min). A constant feature
 * keeps std 1 / range 1, so it becomes 0. `scale`, when given, is recorded (the reader divided by it).
 */
export function normalizeSplits(
  train: Split,
  test: Split,
  features: number,
  normalize: Normalization,
  scale?: number,
): DatasetPreprocess {
  const scaled = scale !== undefined ? { scale } : {};
  if (normalize === 'none' || features === 0) return { normalize: 'none', ...scaled };
  const n = train.count;
  if (normalize === 'standard') {
    const mean = new Float64Array(features);
    for (let r = 0; r < n; r++) {
      for (let j = 0; j < features; j++) mean[j] = (mean[j] as number) + (train.x[r * features + j] as number);
    }
    for (let j = 0; j < features; j++) mean[j] = (mean[j] as number) / n;
    const variance = new Float64Array(features);
    for (let r = 0; r < n; r++) {
      for (let j = 0; j < features; j++) {
        const d = (train.x[r * features + j] as number) - (mean[j] as number);
        variance[j] = (variance[j] as number) + d * d;
      }
    }
    const std = Array.from(variance, (v) => {
      const s = Math.sqrt(v / n);
      return s > 1e-12 ? s : 1;
    });
    const offset = Array.from(mean);
    for (const split of [train, test]) applyAffine(split.x, features, offset, std);
    return { normalize: 'standard', ...scaled, mean: offset, std };
  }
  const min = new Array<number>(features).fill(Infinity);
  const max = new Array<number>(features).fill(-Infinity);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < features; j++) {
      const v = train.x[r * features + j] as number;
      if (v < (min[j] as number)) min[j] = v;
      if (v > (max[j] as number)) max[j] = v;
    }
  }
  const range = min.map((lo, j) => ((max[j] as number) - lo > 0 ? (max[j] as number) - lo : 1));
  for (const split of [train, test]) applyAffine(split.x, features, min, range);
  return { normalize: 'minmax', ...scaled, min, max };
}

function applyAffine(x: Float32Array, features: number, offset: number[], divisor: number[]): void {
  const o = Float64Array.from(offset);
  const d = Float64Array.from(divisor);
  for (let i = 0; i < x.length; i++) {
    const j = i % features;
    x[i] = ((x[i] as number) - (o[j] as number)) / (d[j] as number);
  }
}
