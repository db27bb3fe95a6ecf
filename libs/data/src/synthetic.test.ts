import { describe, expect, it } from 'vitest';
import { generateSynthetic, SYNTHETIC_CLASSES } from './synthetic';
import type { Split } from './types';

const F = 64;

/** Test accuracy of a nearest-class-mean classifier fitted on train: a floor for what an MLP learns. */
function nearestCentroidAccuracy(train: Split, test: Split): number {
  const mean = new Float64Array(SYNTHETIC_CLASSES * F);
  const n = new Float64Array(SYNTHETIC_CLASSES);
  for (let i = 0; i < train.count; i++) {
    const c = train.y[i] ?? 0;
    n[c] = (n[c] ?? 0) + 1;
    for (let j = 0; j < F; j++) mean[c * F + j] = (mean[c * F + j] ?? 0) + (train.x[i * F + j] ?? 0);
  }
  let correct = 0;
  for (let i = 0; i < test.count; i++) {
    let best = -1;
    let bestD = Infinity;
    for (let c = 0; c < SYNTHETIC_CLASSES; c++) {
      let d = 0;
      for (let j = 0; j < F; j++) d += ((test.x[i * F + j] ?? 0) - (mean[c * F + j] ?? 0) / (n[c] ?? 1)) ** 2;
      if (d < bestD) [best, bestD] = [c, d];
    }
    if (best === test.y[i]) correct++;
  }
  return correct / test.count;
}

describe('generateSynthetic', () => {
  it('makes 2,000 + 500 balanced 8×8 samples in [0, 1]', () => {
    const { train, test } = generateSynthetic(1);
    expect([train.count, test.count]).toEqual([2000, 500]);
    expect(train.x.length).toBe(2000 * F);
    expect(train.x.every((v) => v >= 0 && v <= 1)).toBe(true);
    const perClass = new Array<number>(SYNTHETIC_CLASSES).fill(0);
    for (const c of train.y) perClass[c] = (perClass[c] ?? 0) + 1;
    expect(perClass).toEqual([500, 500, 500, 500]);
  });

  it('is a function of the seed', () => {
    const bytes = (a: Float32Array | Int32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    const [a, b, c] = [generateSynthetic(7), generateSynthetic(7), generateSynthetic(8)];
    expect(bytes(a.train.x).equals(bytes(b.train.x)) && bytes(a.test.x).equals(bytes(b.test.x))).toBe(true);
    expect(bytes(a.train.y).equals(bytes(b.train.y))).toBe(true);
    expect(bytes(a.train.x).equals(bytes(c.train.x))).toBe(false);
    expect(bytes(a.train.x.subarray(0, 500 * F)).equals(bytes(a.test.x))).toBe(false);
  });

  it('is learnable well above chance (25%) but not perfectly', () => {
    for (const seed of [1, 2]) {
      const { train, test } = generateSynthetic(seed);
      const acc = nearestCentroidAccuracy(train, test);
      expect(acc).toBeGreaterThan(0.7);
      expect(acc).toBeLessThan(0.95);
    }
  });
});
