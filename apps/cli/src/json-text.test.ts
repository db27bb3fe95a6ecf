import { describe, expect, it } from 'vitest';
import { parseJsonText } from './json-text';

describe('parseJsonText', () => {
  it('returns the value of valid JSON', () => {
    expect(parseJsonText('{"epochs": 3}')).toEqual({ ok: true, value: { epochs: 3 } });
  });

  it('points at the line and column of a missing colon', () => {
    // Line 3 is `  "members" 5`: the 5 is its 13th character.
    expect(parseJsonText('{\n  "epochs": 3,\n  "members" 5\n}')).toMatchObject({
      ok: false,
      line: 3,
      column: 13,
      reason: expect.stringMatching(/^Unexpected number|^Expected ':'/),
    });
  });

  it('finds errors V8 reports without a position (a bad literal)', () => {
    // Line 2 is ` "b": tru}`: its `}` (column 10) is where `true` can no longer be.
    expect(parseJsonText('{"a": 1,\n "b": tru}')).toMatchObject({ ok: false, line: 2, column: 10 });
  });

  it('puts a trailing comma and a text that ends too soon where they are', () => {
    expect(parseJsonText('{"a": 1,}')).toMatchObject({ ok: false, line: 1, column: 9 });
    expect(parseJsonText('{"a": [1,\n2')).toMatchObject({ ok: false, line: 2, column: 2 });
    expect(parseJsonText('')).toMatchObject({ ok: false, line: 1, column: 1 });
  });
});
