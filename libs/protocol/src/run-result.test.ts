import { describe, expect, it } from 'vitest';
import { ClassResultSchema } from './run-result';

describe('ClassResultSchema', () => {
  const classes = {
    names: ['cat', 'dog'],
    testCount: [2, 1],
    softVoteAccuracy: [0.5, 1],
    strategyAccuracy: { soft: [0.5, 1], hard: [1, 0] },
    memberAccuracy: [[0.5, 0]],
    confusion: {
      soft: [
        [1, 1],
        [0, 1],
      ],
    },
  };

  it('takes a result with or without the per-class detail (older results have none)', () => {
    expect(ClassResultSchema.parse(classes)).toEqual(classes);
    const { strategyAccuracy: _s, memberAccuracy: _m, confusion: _c, ...older } = classes;
    expect(ClassResultSchema.parse(older)).toEqual(older);
  });

  it('refuses entries that are not one per class, an unknown strategy, and a confusion row that misses test rows', () => {
    const issues = (value: unknown) =>
      ClassResultSchema.safeParse(value).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
    expect(issues({ ...classes, softVoteAccuracy: [1] })).toEqual([
      'softVoteAccuracy: softVoteAccuracy: expected 2 entries, one per class',
    ]);
    expect(issues({ ...classes, memberAccuracy: [[1, 1, 1]] })).toEqual([
      'memberAccuracy.0: memberAccuracy[0]: expected 2 entries, one per class',
    ]);
    expect(issues({ ...classes, strategyAccuracy: { vote: [1, 1] } })[0]).toMatch(/^strategyAccuracy/);
    expect(
      issues({
        ...classes,
        confusion: {
          soft: [
            [1, 0],
            [0, 1],
          ],
        },
      }),
    ).toEqual(['confusion.soft.0: confusion.soft[0] sums to 1, but class 0 has 2 test rows']);
  });
});
