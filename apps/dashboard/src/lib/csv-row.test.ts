import { describe, expect, it } from 'vitest';
import { parseCsvRow } from './csv-row';

describe('parseCsvRow', () => {
  it('reads numbers separated by commas, spaces or tabs', () => {
    expect(parseCsvRow(' 0, 1.5\t16 ;2 \n', 4)).toEqual({ ok: true, values: [0, 1.5, 16, 2] });
  });

  it('refuses a wrong count, naming both counts', () => {
    const result = parseCsvRow('1,2,3', 64);
    expect(result).toEqual({
      ok: false,
      message: expect.stringContaining('3 values; this ensemble takes 64'),
    });
  });

  it('refuses a cell that is not a number, naming it', () => {
    expect(parseCsvRow('1,x2,3', null)).toEqual({
      ok: false,
      message: expect.stringContaining('Value 2 (“x2”)'),
    });
  });

  it('refuses an empty paste', () => {
    expect(parseCsvRow('  ', 4).ok).toBe(false);
  });
});
