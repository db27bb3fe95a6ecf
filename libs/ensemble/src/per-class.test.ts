import { describe, expect, it } from 'vitest';
import { CLASS_DETAIL_MAX_CLASSES, ClassResultSchema, STRATEGY_NAMES } from '@chorus/protocol';
import { evaluateEnsemble } from './evaluate';
import { perClassResult } from './per-class';

describe('perClassResult', () => {
  // Two members, three classes. Mean rows: [.6,.3,.1]→0, [.2,.5,.3]→1, [.45,.1,.45]→0 (tie: lowest), [.1,.1,.8]→2.
  const a = Float32Array.from([0.7, 0.2, 0.1, 0.2, 0.6, 0.2, 0.5, 0.1, 0.4, 0.1, 0.1, 0.8]);
  const b = Float32Array.from([0.5, 0.4, 0.1, 0.2, 0.4, 0.4, 0.4, 0.1, 0.5, 0.1, 0.1, 0.8]);
  const truth = Int32Array.from([0, 1, 2, 2]);
  const evaluation = evaluateEnsemble({
    numClasses: 3,
    validation: { members: [a, b], truth },
    test: { members: [a, b], truth },
    seed: 1,
  });

  it('scores the soft vote, each member and each strategy per class, by hand on four rows', () => {
    const r = perClassResult(evaluation, truth, 3, ['cat', 'dog', 'owl']);
    // class 0: 1 row, right; class 1: 1 row, right; class 2: 2 rows, one right (the tie went to 0).
    expect(r).toMatchObject({
      names: ['cat', 'dog', 'owl'],
      testCount: [1, 1, 2],
      softVoteAccuracy: [1, 1, 0.5],
    });
    expect(r.strategyAccuracy?.soft).toEqual([1, 1, 0.5]);
    expect(r.confusion?.soft).toEqual([
      [1, 0, 0],
      [0, 1, 0],
      [1, 0, 1],
    ]);
    // Member a labels rows 0, 1, 0, 2; member b 0, 1, 2, 2.
    expect(r.memberAccuracy).toEqual([
      [1, 1, 0.5],
      [1, 1, 1],
    ]);
    expect(Object.keys(r.strategyAccuracy ?? {}).sort()).toEqual([...STRATEGY_NAMES].sort());
    expect(ClassResultSchema.parse(r)).toEqual(r);
  });

  it("agrees with every strategy's overall accuracy: the confusion's diagonal over the rows", () => {
    const r = perClassResult(evaluation, truth, 3);
    for (const s of STRATEGY_NAMES) {
      const matrix = r.confusion?.[s] ?? [];
      expect(
        matrix.map((row) => row.reduce((x, y) => x + y, 0)),
        s,
      ).toEqual(r.testCount);
      const right = matrix.reduce((sum, row, t) => sum + (row[t] as number), 0);
      expect(right / truth.length, s).toBeCloseTo(evaluation.strategies[s].accuracy, 12);
      expect(r.strategyAccuracy?.[s], s).toEqual(
        matrix.map((row, t) => (row[t] as number) / (r.testCount[t] as number)),
      );
    }
  });

  it('names classes by index without names, gives 0 to a class without test rows, and refuses a wrong number of names', () => {
    const labels = {
      testLabels: { members: [Int32Array.from([0, 1])], strategies: { soft: Int32Array.from([0, 0]) } },
    };
    const r = perClassResult(labels, Int32Array.from([0, 1]), 3);
    expect(r.names).toEqual(['0', '1', '2']);
    expect(r.testCount).toEqual([1, 1, 0]);
    expect(r.softVoteAccuracy).toEqual([1, 0, 0]);
    expect(r.confusion?.soft).toEqual([
      [1, 0, 0],
      [1, 0, 0],
      [0, 0, 0],
    ]);
    expect(() => perClassResult(labels, Int32Array.from([0, 1]), 3, ['x'])).toThrow(
      /1 class names for 3 classes/,
    );
    expect(() => perClassResult(labels, Int32Array.from([0, 1, 1]), 3)).toThrow(
      /soft: 2 predictions for 3 true labels/,
    );
    expect(() =>
      perClassResult(
        { testLabels: { members: [], strategies: { hard: Int32Array.from([0]) } } },
        Int32Array.from([0]),
        2,
      ),
    ).toThrow(/no soft vote/);
  });

  it(`keeps only the soft vote's figures beyond ${CLASS_DETAIL_MAX_CLASSES} classes`, () => {
    const classes = CLASS_DETAIL_MAX_CLASSES + 1;
    const t = Int32Array.from({ length: classes }, (_, i) => i);
    const r = perClassResult({ testLabels: { members: [t], strategies: { soft: t } } }, t, classes);
    expect(Object.keys(r).sort()).toEqual(['names', 'softVoteAccuracy', 'testCount']);
    expect(r.softVoteAccuracy.every((x) => x === 1)).toBe(true);
    const atCap = CLASS_DETAIL_MAX_CLASSES;
    const u = Int32Array.from({ length: atCap }, (_, i) => i);
    expect(
      perClassResult({ testLabels: { members: [u], strategies: { soft: u } } }, u, atCap).confusion?.soft,
    ).toHaveLength(atCap);
  });
});
