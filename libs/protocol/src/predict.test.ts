import { describe, expect, it } from 'vitest';
import { ChorusError } from './errors';
import { parsePredictRows } from './predict';

const refusal = (fn: () => unknown): ChorusError => {
  try {
    fn();
  } catch (error) {
    if (error instanceof ChorusError) return error;
    throw error;
  }
  throw new Error('not refused');
};

describe('parsePredictRows', () => {
  it('packs the rows row-major', () => {
    const { x, count } = parsePredictRows(
      {
        rows: [
          [1, 2, 3],
          [4, 5, 6],
        ],
      },
      { features: 3 },
    );
    expect(count).toBe(2);
    expect([...x]).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('refuses a row of another length with 400, naming the row and both counts', () => {
    const error = refusal(() =>
      parsePredictRows(
        {
          rows: [
            [1, 2, 3],
            [4, 5],
          ],
        },
        { features: 3 },
      ),
    );
    expect(error.code).toBe('invalid-input');
    expect(error.message).toMatch(/^rows\.1: has 2 values; this ensemble takes 3 per row/);
  });

  it('refuses more rows than the limit with too-large (413)', () => {
    const error = refusal(() => parsePredictRows({ rows: [[1], [2], [3]] }, { features: 1, maxRows: 2 }));
    expect(error.code).toBe('too-large');
    expect(error.message).toContain('3 rows in one request; at most 2');
  });

  it('refuses an empty body, no rows, a non-number and an unknown field, naming the field', () => {
    expect(refusal(() => parsePredictRows(undefined, { features: 1 })).message).toMatch(/^\(body\): /);
    expect(refusal(() => parsePredictRows({ rows: [] }, { features: 1 })).message).toMatch(
      /^rows: must hold at least one row/,
    );
    expect(refusal(() => parsePredictRows({ rows: [[1, 'x']] }, { features: 2 })).message).toMatch(
      /^rows\.0\.1: /,
    );
    expect(refusal(() => parsePredictRows({ rows: [[1]], extra: 1 }, { features: 1 })).code).toBe(
      'invalid-input',
    );
  });
});
