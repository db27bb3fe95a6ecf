import { describe, expect, it } from 'vitest';
import { parseNumericCsv } from './numeric-csv';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('parseNumericCsv', () => {
  it('reads rows with or without a header, skipping blank lines', () => {
    expect(parseNumericCsv(bytes('1,2,3\n\n4,5.5,6\r\n'), 'a.csv')).toEqual({
      header: null,
      columns: 3,
      rows: 2,
      values: Float32Array.of(1, 2, 3, 4, 5.5, 6),
    });
    expect(parseNumericCsv(bytes('label,p1,p2\n3,0,255\n'), 'b.csv')).toEqual({
      header: ['label', 'p1', 'p2'],
      columns: 3,
      rows: 1,
      values: Float32Array.of(3, 0, 255),
    });
  });

  it('refuses an empty file, a header alone, a short row and a word, naming file and line', () => {
    expect(() => parseNumericCsv(bytes('\n \n'), 'e.csv')).toThrow('e.csv:1: the file is empty: no rows');
    expect(() => parseNumericCsv(bytes('a,b\n'), 'h.csv')).toThrow(
      'h.csv:1: the file has a header but no data rows',
    );
    expect(() => parseNumericCsv(bytes('1,2,3\n4,5\n'), 's.csv')).toThrow(
      's.csv:2: expected 3 columns, found 2',
    );
    expect(() => parseNumericCsv(bytes('1,2\n4,x\n'), 'w.csv')).toThrow(
      'w.csv:2: column 2 is not a number: "x"',
    );
  });
});
