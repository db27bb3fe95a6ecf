import { describe, expect, it } from 'vitest';
import { parseWhatIfInput, parseWhatIfSearchParams, whatIfQuery, WhatIfResultSchema } from './run-what-if';

describe('what-if input', () => {
  it('accepts members in range and a known strategy (sorted, without repeats)', () => {
    expect(parseWhatIfInput({ members: [2, 0, 2], strategy: 'weighted-soft' }, 4)).toEqual({
      ok: true,
      value: { members: [0, 2], strategy: 'weighted-soft' },
    });
    expect(new URLSearchParams(whatIfQuery({ members: [0, 2], strategy: 'soft' })).toString()).toBe(
      'members=0%2C2&strategy=soft',
    );
  });

  it('refuses no member, members out of range and unknown strategies, saying what to do', () => {
    expect(parseWhatIfInput({ members: [], strategy: 'soft' }, 4)).toEqual({
      ok: false,
      message: 'Choose at least one member.',
    });
    expect(parseWhatIfInput({ members: [4], strategy: 'soft' }, 4)).toEqual({
      ok: false,
      message: 'this run has members 0–3',
    });
    expect(parseWhatIfInput({ members: [0], strategy: 'median' }, 4)).toEqual({
      ok: false,
      message:
        'Choose a strategy: hard, soft, weighted-soft, weighted-hard, geometric, stacking, optimal-weights, selection.',
    });
    expect(parseWhatIfInput({ members: [0.5], strategy: 'soft' }, 4)).toMatchObject({
      ok: false,
      message: /whole numbers/,
    });
  });

  it('reads the query string of the route handler', () => {
    const ok = parseWhatIfSearchParams(new URLSearchParams('members=3,1&strategy=hard'), 4);
    expect(ok).toEqual({ ok: true, value: { members: [1, 3], strategy: 'hard' } });
    expect(parseWhatIfSearchParams(new URLSearchParams('strategy=hard'), 4)).toEqual({
      ok: false,
      message: 'Choose at least one member.',
    });
    expect(parseWhatIfSearchParams(new URLSearchParams('members=1;2&strategy=hard'), 4)).toMatchObject({
      ok: false,
      message: /comma-separated/,
    });
    expect(parseWhatIfSearchParams(new URLSearchParams('members=1'), 4)).toMatchObject({
      ok: false,
      message: /Choose a strategy/,
    });
  });

  it("parses the coordinator's answer", () => {
    const s = { accuracy: 0.9, nll: 0.3, brier: 0.1, ece: 0.02, gainOverBest: 0.01, gainOverMean: 0.05 };
    const answer = {
      runId: 'r',
      strategy: 'soft',
      round: 3,
      members: [{ index: 0, valAccuracy: 0.8, testAccuracy: 0.85, weight: 1 }],
      test: s,
      validation: s,
    };
    expect(WhatIfResultSchema.parse(answer).test.accuracy).toBe(0.9);
    expect(WhatIfResultSchema.safeParse({ ...answer, strategy: 'x' }).success).toBe(false);
  });
});
