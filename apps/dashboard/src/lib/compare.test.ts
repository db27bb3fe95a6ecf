import { describe, expect, it } from 'vitest';
import {
  bestFlags,
  canonicalJson,
  compareTable,
  configDiff,
  memberSummary,
  normaliseConfig,
  parseCompareQuery,
} from './compare';
import type { FinalTable } from './run-final-table';

describe('parseCompareQuery', () => {
  it('reads ?runs=a,b and repeated ?run=, keeping order and dropping repeats', () => {
    expect(parseCompareQuery({ runs: 'a1,b2' })).toEqual({ ok: true, ids: ['a1', 'b2'] });
    expect(parseCompareQuery({ run: ['a1', 'b2', 'a1', ''] })).toEqual({ ok: true, ids: ['a1', 'b2'] });
    expect(parseCompareQuery({ runs: ' a1 , b2 ,c3,d4' })).toEqual({
      ok: true,
      ids: ['a1', 'b2', 'c3', 'd4'],
    });
  });

  it('explains what is wrong', () => {
    expect(parseCompareQuery({})).toEqual({
      ok: false,
      ids: [],
      problem: 'none-picked',
      message: 'Pick two to four runs to compare.',
    });
    expect(parseCompareQuery({ runs: 'a1' })).toMatchObject({
      ok: false,
      ids: ['a1'],
      message: 'Pick at least two runs to compare.',
    });
    expect(parseCompareQuery({ runs: 'a1,a1' })).toMatchObject({ ok: false, message: /picked twice/ });
    expect(parseCompareQuery({ runs: 'a,b,c,d,e' })).toMatchObject({
      ok: false,
      ids: ['a', 'b', 'c', 'd'],
      problem: 'too-many',
      message: 'At most 4 runs can be compared at once.',
    });
    expect(parseCompareQuery({ runs: 'a1,../x' })).toMatchObject({
      ok: false,
      ids: ['a1'],
      message: 'Not a run id: "../x".',
    });
  });
});

describe('configDiff', () => {
  it('lists only the keys whose values differ, in schema order, with defaults filled in', () => {
    const a = normaliseConfig({ dataset: 'digits', members: 3, epochs: 2 });
    const b = normaliseConfig({
      dataset: 'digits',
      members: 4,
      epochs: 2,
      sharding: 'disjoint',
      learningRate: 0.01,
    });
    const c = normaliseConfig({
      dataset: 'digits',
      members: 3,
      epochs: 2,
      memberOverrides: [{ member: 0, dropout: 0.5 }],
    });
    const diff = configDiff([a, b, c]);
    expect(diff.differing).toEqual([
      { key: 'members', values: ['3', '4', '3'] },
      { key: 'sharding', values: ['round-robin', 'disjoint', 'round-robin'] },
      { key: 'learningRate', values: ['—', '0.01', '—'] },
      { key: 'memberOverrides', values: ['[]', '[]', '[{"member":0,"dropout":0.5}]'] },
    ]);
    expect(diff.same.map((s) => s.key)).toEqual([
      'dataset',
      'model',
      'epochs',
      'batchSize',
      'seed',
      'validationFraction',
    ]);
    expect(diff.same.find((s) => s.key === 'batchSize')?.value).toBe('64');
  });

  it('does not count key order as a difference', () => {
    expect(canonicalJson({ b: 1, a: [{ y: 2, x: 1 }] })).toBe(canonicalJson({ a: [{ x: 1, y: 2 }], b: 1 }));
    expect(configDiff([{ o: { a: 1, b: 2 } }, { o: { b: 2, a: 1 } }]).differing).toEqual([]);
  });
});

describe('bestFlags', () => {
  it('marks the largest (or smallest) value, all ties, and nothing without two values', () => {
    expect(bestFlags([0.9, 0.95, 0.95, undefined], false)).toEqual([false, true, true, false]);
    expect(bestFlags([0.31, 0.29, 0.4], true)).toEqual([false, true, false]);
    expect(bestFlags([0.9, undefined], false)).toEqual([false, false]);
    expect(bestFlags([Number.NaN, 0.1, 0.2], true)).toEqual([false, true, false]);
  });
});

const table = (strategies: Record<string, Record<string, number>>, members: number[] = []): FinalTable => ({
  source: 'result',
  round: null,
  rows: [
    ...Object.entries(strategies).map(([key, values]) => ({
      kind: 'strategy' as const,
      key,
      label: key,
      values,
    })),
    ...members.map((accuracy, i) => ({
      kind: 'member' as const,
      key: String(i),
      label: `Member ${i}`,
      values: { accuracy },
    })),
  ],
});

describe('compareTable', () => {
  it('puts each strategy’s runs side by side and marks the best per metric across runs', () => {
    const groups = compareTable([
      {
        id: 'a',
        table: table({
          soft: { accuracy: 0.9, nll: 0.3, gainOverBest: 0.01 },
          hard: { accuracy: 0.88, nll: 0.5 },
        }),
      },
      {
        id: 'b',
        table: table({
          soft: { accuracy: 0.92, nll: 0.35, gainOverBest: -0.01 },
          geometric: { accuracy: 0.91 },
        }),
      },
      { id: 'c', table: null },
    ]);
    expect(groups.map((g) => g.strategy)).toEqual(['hard', 'soft', 'geometric']);
    const soft = groups[1]!;
    expect(soft.rows.map((r) => r.runId)).toEqual(['a', 'b', 'c']);
    expect(soft.rows.map((r) => r.cells.accuracy)).toEqual([
      { value: 0.9, best: false },
      { value: 0.92, best: true },
      { value: undefined, best: false },
    ]);
    // NLL: lower is better.
    expect(soft.rows.map((r) => r.cells.nll.best)).toEqual([true, false, false]);
    expect(soft.rows.map((r) => r.cells.gainOverBest.best)).toEqual([true, false, false]);
    // Only one run has `hard`: nothing to compare, nothing marked.
    expect(groups[0]!.rows.map((r) => r.cells.accuracy.best)).toEqual([false, false, false]);
  });

  it('summarises the members', () => {
    const summary = memberSummary(table({}, [0.8, 0.9, 0.85]));
    expect(summary).toMatchObject({ best: 0.9, count: 3 });
    expect(summary?.mean).toBeCloseTo(0.85, 12);
    expect(memberSummary(table({ soft: { accuracy: 1 } }))).toBeNull();
    expect(memberSummary(null)).toBeNull();
  });
});
