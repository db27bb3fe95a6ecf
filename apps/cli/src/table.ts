import { stripVTControlCharacters } from 'node:util';
import Table from 'cli-table3';
import { colorEnabled, painter } from '@chorus/terminal';
import { readColorEnv } from './env';

/** The widest a table may be: it must read on a 100-column terminal. */
export const MAX_TABLE_WIDTH = 100;

/** Whether stdout gets ANSI colours (FORCE_COLOR, NO_COLOR, a terminal: colorEnabled). */
export function stdoutColor(): boolean {
  return colorEnabled(process.stdout, readColorEnv());
}

/**
 * A boxed table; renderTable keeps the rule under the header and drops those between rows. The
 * header is coloured only when `color` is on.
 */
export function boxedTable(head: string[], color: boolean): Table.Table {
  return new Table({ head: paintHead(head, color), style: { head: [], border: color ? ['gray'] : [] } });
}

/**
 * A table without borders, columns two spaces apart, the last one wrapped so that the whole fits
 * MAX_TABLE_WIDTH (`widths` are those of the other columns, padding included).
 */
export function plainTable(head: string[], widths: number[], color: boolean): Table.Table {
  const used = widths.reduce((a, b) => a + b, 0) + 2 * widths.length;
  return new Table({
    head: paintHead(head, color),
    colWidths: [...widths, MAX_TABLE_WIDTH - used],
    wordWrap: true,
    chars: {
      top: '',
      'top-mid': '',
      'top-left': '',
      'top-right': '',
      bottom: '',
      'bottom-mid': '',
      'bottom-left': '',
      'bottom-right': '',
      left: '',
      'left-mid': '',
      mid: '',
      'mid-mid': '',
      right: '',
      'right-mid': '',
      middle: '  ',
    },
    style: { 'padding-left': 0, 'padding-right': 0, head: [], border: [] },
  });
}

/**
 * The table's text: of the rules between rows only the one under the header is kept, and the
 * trailing blanks of a padded last column are cut.
 */
export function renderTable(table: Table.Table): string {
  let rules = 0;
  return table
    .toString()
    .split('\n')
    .filter((line) => !stripVTControlCharacters(line).startsWith('├') || rules++ === 0)
    .map((line) => line.trimEnd())
    .join('\n');
}

/** Header cells painted here rather than by cli-table3, so the colour stops before the padding. */
function paintHead(head: string[], color: boolean): string[] {
  const paint = painter(color);
  return head.map((cell) => paint('cyan', cell));
}

/**
 * A plainTable holding `rows`, its columns but the last as wide as their widest cell, the last
 * wrapped into what is left of MAX_TABLE_WIDTH; when that is under 8, the widest other column gives
 * way (cli-table3 ends its cut cells with …).
 */
export function fittedTable(head: string[], rows: string[][], color: boolean): Table.Table {
  const widths = head.slice(0, -1).map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const room = () => MAX_TABLE_WIDTH - widths.reduce((a, b) => a + b, 0) - 2 * widths.length;
  while (room() < 8) {
    const widest = widths.indexOf(Math.max(...widths));
    widths[widest] = (widths[widest] ?? 0) - 1;
  }
  const table = plainTable(head, widths, color);
  for (const row of rows) table.push(row);
  return table;
}
