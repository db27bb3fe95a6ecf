import { describe, expect, it } from 'vitest';
import { labelKey, parseDecimal } from './csv-fields';

describe('parseDecimal', () => {
  it('equals Number() on plain decimals, bit for bit (then as float32)', () => {
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    for (let n = 0; n < 20_000; n++) {
      const digits = String(next()).slice(0, 1 + (next() % 15));
      const point = next() % (digits.length + 1);
      const text = `${next() % 2 ? '-' : ''}${digits.slice(0, point)}.${digits.slice(point)}`;
      expect(parseDecimal(text, 0, text.length), text).toBe(Number(text));
      expect(Math.fround(parseDecimal(text, 0, text.length))).toBe(Math.fround(Number(text)));
    }
    expect(parseDecimal('x12.5,', 1, 5)).toBe(12.5);
  });

  it('leaves everything else to Number(): exponents, spaces, signs, 16+ digits, nothing', () => {
    for (const text of ['1e3', ' 1', '+1', '1234567890123456', '', '-', '.', '1.2.3', '0x10']) {
      expect(parseDecimal(text, 0, text.length), text).toBeNaN();
    }
  });
});

describe('labelKey', () => {
  it('writes integers canonically and keeps other labels as they are', () => {
    expect(['07', '7', '+7', '-0', 'x7', '7.0'].map(labelKey)).toEqual(['7', '7', '7', '0', 'x7', '7.0']);
  });
});
