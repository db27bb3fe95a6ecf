import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { labelCase } from './arbitraries.test-util';
import { diversity, type DiversityReport } from './diversity';

const labels = (...l: number[]): Int32Array => Int32Array.from(l);

// Hand case: N = 6, L = 3 members, classes 0..2.
//   truth   0 1 2 0 1 2
//   A       0 1 2 0 0 0   correct 1 1 1 1 0 0  (4)
//   B       0 1 0 1 1 2   correct 1 1 0 0 1 1  (4)
//   C       1 1 2 2 2 2   correct 0 1 1 0 0 1  (3)
//   l_j     2 3 2 1 1 2
const truth = labels(0, 1, 2, 0, 1, 2);
const A = labels(0, 1, 2, 0, 0, 0);
const B = labels(0, 1, 0, 1, 1, 2);
const C = labels(1, 1, 2, 2, 2, 2);

describe('diversity: pairwise measures by hand', () => {
  const report = diversity([A, B, C], truth);
  const { disagreement, qStatistic, correlation, doubleFault, kappa } = report.pairwise;

  it('A–B: N11 = 2, N10 = 2, N01 = 2, N00 = 0', () => {
    expect(disagreement[0]?.[1]).toBeCloseTo(4 / 6, 12); // (2 + 2)/6
    expect(qStatistic[0]?.[1]).toBeCloseTo(-1, 12); // (2·0 − 2·2)/(0 + 4)
    expect(correlation[0]?.[1]).toBeCloseTo(-0.5, 12); // −4/√(4·2·4·2)
    expect(doubleFault[0]?.[1]).toBe(0);
    // labels agree on samples 0, 1: p_o = 2/6. A's class counts (4, 1, 1), B's (2, 3, 1):
    // p_e = (4·2 + 1·3 + 1·1)/36 = 1/3 → κ = (1/3 − 1/3)/(2/3) = 0
    expect(kappa[0]?.[1]).toBeCloseTo(0, 12);
  });

  it('A–C: N11 = 2, N10 = 2, N01 = 1, N00 = 1', () => {
    expect(disagreement[0]?.[2]).toBeCloseTo(0.5, 12); // 3/6
    expect(qStatistic[0]?.[2]).toBeCloseTo(0, 12); // (2·1 − 1·2)/4
    expect(correlation[0]?.[2]).toBeCloseTo(0, 12);
    expect(doubleFault[0]?.[2]).toBeCloseTo(1 / 6, 12);
    // agree on samples 1, 2: p_o = 1/3. C's counts (0, 2, 4): p_e = (0 + 2 + 4)/36 = 1/6
    // κ = (1/3 − 1/6)/(5/6) = 0.2
    expect(kappa[0]?.[2]).toBeCloseTo(0.2, 12);
  });

  it('B–C: N11 = 2, N10 = 2, N01 = 1, N00 = 1', () => {
    expect(disagreement[1]?.[2]).toBeCloseTo(0.5, 12);
    expect(qStatistic[1]?.[2]).toBeCloseTo(0, 12);
    expect(doubleFault[1]?.[2]).toBeCloseTo(1 / 6, 12);
    // agree on samples 1, 5: p_o = 1/3; p_e = (2·0 + 3·2 + 1·4)/36 = 10/36 → κ = (2/36)/(26/36) = 1/13
    expect(kappa[1]?.[2]).toBeCloseTo(1 / 13, 12);
  });

  it('fills symmetric matrices with the documented diagonals', () => {
    for (const [name, diagonal] of [
      ['disagreement', 0],
      ['qStatistic', 1],
      ['correlation', 1],
      ['doubleFault', 0],
      ['kappa', 1],
    ] as const) {
      const m = report.pairwise[name];
      for (let i = 0; i < 3; i++) {
        expect(m[i]?.[i]).toBe(diagonal);
        for (let k = 0; k < 3; k++) expect(m[i]?.[k]).toBe(m[k]?.[i]);
      }
    }
  });

  it('averages over the three pairs', () => {
    expect(report.mean.disagreement).toBeCloseTo((4 / 6 + 0.5 + 0.5) / 3, 12); // 5/9
    expect(report.mean.qStatistic).toBeCloseTo(-1 / 3, 12);
    expect(report.mean.correlation).toBeCloseTo(-0.5 / 3, 12);
    expect(report.mean.doubleFault).toBeCloseTo(1 / 9, 12);
    expect(report.mean.kappa).toBeCloseTo((0 + 0.2 + 1 / 13) / 3, 12); // 6/65
  });
});

describe('diversity: non-pairwise measures by hand', () => {
  const report = diversity([A, B, C], truth);

  it('entropy E', () => {
    // L − ⌈L/2⌉ = 1; min(l_j, 3 − l_j) = 1 0 1 1 1 1 → E = 5/6
    expect(report.entropy).toBeCloseTo(5 / 6, 12);
  });

  it('Kohavi–Wolpert variance', () => {
    // Σ l_j (3 − l_j) = 2 + 0 + 2 + 2 + 2 + 2 = 10 → KW = 10/(6·9) = 5/27
    expect(report.kwVariance).toBeCloseTo(5 / 27, 12);
    // and KW = (L − 1)/(2L) · mean disagreement = (2/6)(5/9) (Kuncheva & Whitaker)
    expect(report.kwVariance).toBeCloseTo((2 / 6) * report.mean.disagreement, 12);
  });

  it('interrater κ', () => {
    // p̄ = 11/18; κ = 1 − (10/3) / (6 · 2 · (11/18)(7/18)) = 1 − 90/77 = −13/77
    expect(report.interraterKappa).toBeCloseTo(-13 / 77, 12);
  });
});

describe('diversity: degenerate cases', () => {
  it('one member: diagonal values, zero entropy and variance, κ = 1', () => {
    const r = diversity([A], truth);
    expect(r.pairwise.disagreement).toEqual([[0]]);
    expect(r.pairwise.kappa).toEqual([[1]]);
    expect(r.mean).toEqual({ disagreement: 0, qStatistic: 1, correlation: 1, doubleFault: 0, kappa: 1 });
    expect(r.entropy).toBe(0);
    expect(r.kwVariance).toBe(0);
    expect(r.interraterKappa).toBe(1);
  });

  it('members always right: Q and ρ have a zero denominator → 0; interrater κ (p̄ = 1) → 1', () => {
    const r = diversity([truth, truth], truth);
    // N11 = 6, others 0: Q = 0/0 → 0, ρ = 0/0 → 0; labels identical with p_e = 1/3 → κ = 1
    expect(r.mean).toEqual({ disagreement: 0, qStatistic: 0, correlation: 0, doubleFault: 0, kappa: 1 });
    expect(r.entropy).toBe(0);
    expect(r.kwVariance).toBe(0);
    expect(r.interraterKappa).toBe(1);
  });

  it('members always wrong (p̄ = 0): double fault 1, interrater κ 1', () => {
    const wrong = labels(1, 2, 0, 1, 2, 0);
    const r = diversity([wrong, wrong, wrong], truth);
    expect(r.mean.doubleFault).toBe(1);
    expect(r.interraterKappa).toBe(1);
  });

  it('pairwise κ is 1 when p_e = 1 (both always predict the same single class)', () => {
    const zeros = labels(0, 0, 0, 0, 0, 0);
    expect(diversity([zeros, zeros], truth).pairwise.kappa[0]?.[1]).toBe(1);
  });

  it('rejects bad input', () => {
    expect(() => diversity([], truth)).toThrow(/at least one member/);
    expect(() => diversity([A], new Int32Array(0))).toThrow(/at least one sample/);
    expect(() => diversity([A, labels(0, 1)], truth)).toThrow(/member 1: 2 labels for 6 samples/);
    expect(() => diversity([labels(0, 1, 2, 0, -1, 0)], truth)).toThrow(/member 0: sample 4 has label -1/);
    expect(() => diversity([[0, 1, 2, 0, 1, 2] as unknown as Int32Array], truth)).toThrow(/Int32Array/);
  });
});

describe('diversity: properties', () => {
  const runs = { numRuns: 150 };
  const finite = (r: DiversityReport): boolean => JSON.stringify(r).match(/null|NaN|Infinity/) === null;

  it('every value is finite and in range; matrices symmetric', () => {
    fc.assert(
      fc.property(labelCase(), ({ members, truth }) => {
        const r = diversity(members, truth);
        expect(finite(r)).toBe(true);
        const m = members.length;
        for (let i = 0; i < m; i++) {
          for (let k = 0; k < m; k++) {
            const d = r.pairwise.disagreement[i]?.[k] as number;
            expect(d).toBeGreaterThanOrEqual(0);
            expect(d).toBeLessThanOrEqual(1);
            expect(d).toBe(r.pairwise.disagreement[k]?.[i]);
            for (const key of ['qStatistic', 'correlation', 'kappa'] as const) {
              const v = r.pairwise[key][i]?.[k] as number;
              expect(Math.abs(v)).toBeLessThanOrEqual(1 + 1e-12);
              expect(v).toBe(r.pairwise[key][k]?.[i]);
            }
          }
        }
        expect(r.entropy).toBeGreaterThanOrEqual(0);
        expect(r.entropy).toBeLessThanOrEqual(1);
        expect(r.kwVariance).toBeGreaterThanOrEqual(0);
        expect(r.kwVariance).toBeLessThanOrEqual(0.25);
        // Kuncheva & Whitaker: KW = (L − 1)/(2L) · mean disagreement
        if (m > 1) expect(r.kwVariance).toBeCloseTo(((m - 1) / (2 * m)) * r.mean.disagreement, 10);
      }),
      runs,
    );
  });

  it('ρ equals the Pearson correlation of the two correctness vectors when it is defined', () => {
    fc.assert(
      fc.property(labelCase(), ({ members, truth }) => {
        if (members.length < 2) return;
        const oracle = (l: Int32Array): number[] => Array.from(l, (v, j) => (v === truth[j] ? 1 : 0));
        const x = oracle(members[0] as Int32Array);
        const y = oracle(members[1] as Int32Array);
        const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
        const mx = mean(x);
        const my = mean(y);
        const cov = x.reduce((s, xi, j) => s + (xi - mx) * ((y[j] as number) - my), 0);
        const sx = Math.sqrt(x.reduce((s, xi) => s + (xi - mx) ** 2, 0));
        const sy = Math.sqrt(y.reduce((s, yi) => s + (yi - my) ** 2, 0));
        if (sx === 0 || sy === 0) return;
        expect(diversity(members, truth).pairwise.correlation[0]?.[1]).toBeCloseTo(cov / (sx * sy), 10);
      }),
      runs,
    );
  });

  it('identical members: κ = 1 and no disagreement', () => {
    fc.assert(
      fc.property(labelCase(), fc.integer({ min: 2, max: 5 }), ({ members, truth }, copies) => {
        const same = Array.from({ length: copies }, () => members[0] as Int32Array);
        const r = diversity(same, truth);
        expect(r.mean.kappa).toBe(1);
        expect(r.mean.disagreement).toBe(0);
        expect(r.kwVariance).toBe(0);
        expect(r.entropy).toBe(0);
        expect(r.interraterKappa).toBe(1);
      }),
      runs,
    );
  });
});
