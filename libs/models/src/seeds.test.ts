import { describe, expect, it } from 'vitest';
import { deriveSeed, mulberry32 } from './seeds';

describe('deriveSeed', () => {
  it('is deterministic and separates seeds, labels and steps', () => {
    expect(deriveSeed(1, 'hidden1')).toBe(deriveSeed(1, 'hidden1'));
    const seen = new Set<number>();
    for (const seed of [0, 1, 2, 2 ** 32 + 1, -1]) {
      for (const label of ['hidden1', 'hidden2', 'output']) {
        for (const step of [0, 1, 2]) seen.add(deriveSeed(seed, label, step));
      }
    }
    expect(seen.size).toBe(5 * 3 * 3);
    expect(deriveSeed(1, 'ab', 'c')).not.toBe(deriveSeed(1, 'a', 'bc'));
    for (const s of seen) expect(Number.isInteger(s) && s >= 0 && s < 2 ** 32).toBe(true);
  });
});

describe('mulberry32', () => {
  it('gives reproducible uniform floats in [0, 1)', () => {
    const a = mulberry32(5);
    const b = mulberry32(5);
    const xs = Array.from({ length: 10_000 }, () => a());
    expect(Array.from({ length: 10_000 }, () => b())).toEqual(xs);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.49);
    expect(mean).toBeLessThan(0.51);
  });
});
