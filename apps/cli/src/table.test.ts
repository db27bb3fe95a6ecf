import { describe, expect, it } from 'vitest';
import { fittedTable, MAX_TABLE_WIDTH, renderTable } from './table';

describe('fittedTable', () => {
  it('sizes the columns to their cells and wraps the last into what is left of 100', () => {
    const text = renderTable(
      fittedTable(['id', 'status', 'name'], [['abc', 'completed', 'x '.repeat(60).trim()]], false),
    );
    const lines = text.split('\n');
    // id: 3 wide, status: 9, two spaces after each: the name starts at column 16 and gets 84.
    expect(lines[0]).toBe('id   status     name');
    expect(lines[1]?.startsWith('abc  completed  x x')).toBe(true);
    expect(lines.length).toBe(3); // 119 characters of name over two lines of 84
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(MAX_TABLE_WIDTH);
  });

  it('narrows the widest other column when the last would get under 8', () => {
    const wide = 'w'.repeat(95);
    const lines = renderTable(fittedTable(['a', 'b'], [[wide, 'tail']], false)).split('\n');
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(MAX_TABLE_WIDTH);
    expect(lines[1]).toMatch(/^w+… +tail$/);
  });
});
