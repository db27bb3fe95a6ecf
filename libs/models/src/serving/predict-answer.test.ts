import { describe, expect, it } from 'vitest';
import { predictionRowsOf } from './predict-answer';

describe('predictionRowsOf', () => {
  it("shapes each row: the strategy's class and score, every member, every strategy, the disagreement", () => {
    // Two rows, three classes; members 2 and 0 (a subset, in that order).
    const rows = predictionRowsOf(
      {
        members: [2, 0],
        memberProbs: [
          Float32Array.of(0.7, 0.2, 0.1, 0.1, 0.1, 0.8),
          Float32Array.of(0.1, 0.6, 0.3, 0.2, 0.2, 0.6),
        ],
        strategies: {
          // the mean of the members: row 0 (0.4, 0.4, 0.2) → class 0 (first of the tie), row 1 (0.15, 0.15, 0.7)
          soft: { classes: Int32Array.of(0, 2), probs: Float32Array.of(0.4, 0.4, 0.2, 0.15, 0.15, 0.7) },
          // one vote each on row 0, both for class 2 on row 1
          hard: { classes: Int32Array.of(0, 2), probs: Float32Array.of(0.5, 0.5, 0, 0, 0, 1) },
        },
        disagreement: Float32Array.of(1, 0),
      },
      2,
      ['a', 'b', 'c'],
      'soft',
    );
    expect(rows[0]).toEqual({
      class: 0,
      className: 'a',
      probability: expect.closeTo(0.4, 6),
      members: [
        { member: 2, class: 0, probabilities: [0.7, 0.2, 0.1].map((p) => expect.closeTo(p, 6)) },
        { member: 0, class: 1, probabilities: [0.1, 0.6, 0.3].map((p) => expect.closeTo(p, 6)) },
      ],
      strategies: [
        { strategy: 'soft', class: 0, className: 'a', probability: expect.closeTo(0.4, 6) },
        { strategy: 'hard', class: 0, className: 'a', probability: 0.5 },
      ],
      disagreement: 1,
    });
    expect(rows[1]).toMatchObject({
      class: 2,
      className: 'c',
      probability: expect.closeTo(0.7, 6),
      disagreement: 0,
    });
    expect(rows[1]!.strategies[1]).toEqual({ strategy: 'hard', class: 2, className: 'c', probability: 1 });
  });

  it('refuses a strategy the ensemble does not have, and member rows of another size', () => {
    const outputs = {
      members: [0],
      memberProbs: [Float32Array.of(0.5, 0.5)],
      strategies: { soft: { classes: Int32Array.of(0), probs: Float32Array.of(0.5, 0.5) } },
      disagreement: Float32Array.of(0),
    };
    expect(() => predictionRowsOf(outputs, 1, ['a', 'b'], 'stacking')).toThrow(
      'the ensemble has no stacking strategy',
    );
    expect(() => predictionRowsOf(outputs, 1, ['a', 'b', 'c'], 'soft')).toThrow('member 0 gave 2 values');
  });
});
