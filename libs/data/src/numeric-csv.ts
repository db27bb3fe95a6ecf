import { corrupt, countColumns, decode, NumericRows } from './csv';
import { readMaybeGzip } from './io';

/** A CSV file of numbers: `rows` × `columns` values, row-major, and its header when it has one. */
export interface NumericTable {
  /** The column names of a first line that is not all numbers; null when the file has none. */
  header: string[] | null;
  columns: number;
  rows: number;
  values: Float32Array;
}

/**
 * Reads any CSV of numbers (plain or gzipped): an optional header line (one that holds a field that
 * is not a number), then rows that all have the same number of columns. Errors name the file and line.
 */
export async function readNumericCsv(path: string): Promise<NumericTable> {
  return parseNumericCsv(await readMaybeGzip(path), path);
}

export function parseNumericCsv(bytes: Uint8Array, path: string): NumericTable {
  const text = decode(bytes, path);
  const peek = new NumericRows(text, path);
  const first = peek.nextLine();
  if (first === undefined) throw corrupt(path, 1, 'the file is empty: no rows');
  const fields = first.text.split(',').map((f) => f.trim().replace(/^"|"$/g, ''));
  const isHeader = fields.some((f) => f === '' || !Number.isFinite(Number(f)));
  const rows = new NumericRows(text, path);
  let columns = countColumns(first.text);
  if (isHeader) {
    rows.nextLine();
    const second = peek.nextLine();
    if (second === undefined) throw corrupt(path, first.line, 'the file has a header but no data rows');
    columns = fields.length;
  }
  const capacity = rows.remainingLineEstimate();
  let values = new Float32Array(capacity * columns);
  const row = new Float64Array(columns);
  let count = 0;
  for (let line = rows.nextRow(row); line !== undefined; line = rows.nextRow(row)) {
    values.set(row, count * columns);
    count++;
  }
  if (count < capacity) values = values.slice(0, count * columns);
  return { header: isHeader ? fields : null, columns, rows: count, values };
}
