import { DatasetError } from './errors';
import { readMaybeGzip } from './io';
import type { Split } from './types';

/** Letters of Sign-Language-MNIST's 24 classes: A–Y without J (J and Z need motion). */
export const SIGN_MNIST_CLASS_NAMES: readonly string[] = Object.freeze('ABCDEFGHIKLMNOPQRSTUVWXY'.split(''));

const SIGN_PIXELS = 784;
const DIGITS_FEATURES = 64;

/**
 * Reads Kaggle's Sign-Language-MNIST CSV (`label,pixel1,…,pixel784`, one 28×28 image a row,
 * pixels 0–255). Labels 0–24 skip 9 (J); they are mapped to 24 contiguous classes
 * (0–8 stay, 10–24 become 9–23) whose names are SIGN_MNIST_CLASS_NAMES.
 */
export async function readSignMnistCsv(path: string): Promise<Split> {
  return parseSignMnistCsv(await readMaybeGzip(path), path);
}

/** readSignMnistCsv on bytes already in memory (decoded, not gzipped). */
export function parseSignMnistCsv(bytes: Uint8Array, path: string): Split {
  const text = decode(bytes, path);
  const rows = new NumericRows(text, path);
  const header = rows.nextLine();
  if (header === undefined) throw corrupt(path, 1, 'file is empty');
  checkSignHeader(header.text, path, header.line);
  return collect(rows, path, 1 + SIGN_PIXELS, (row, line, x, offset) => {
    const label = row[0] ?? NaN;
    if (!Number.isInteger(label) || label < 0 || label > 24 || label === 9) {
      throw corrupt(path, line, `label ${label} is not a Sign-Language-MNIST class (0–24 without 9)`);
    }
    for (let j = 0; j < SIGN_PIXELS; j++) {
      const v = row[j + 1] ?? NaN;
      if (!(v >= 0 && v <= 255)) throw corrupt(path, line, `pixel${j + 1} = ${v} is outside 0–255`);
      x[offset + j] = v / 255;
    }
    return label < 9 ? label : label - 1;
  });
}

/**
 * Reads scikit-learn's digits CSV (`digits.csv` or `.csv.gz`, no header): 64 pixel values 0–16
 * of an 8×8 image, then the label 0–9.
 */
export async function readDigitsCsv(path: string): Promise<Split> {
  return parseDigitsCsv(await readMaybeGzip(path), path);
}

/** readDigitsCsv on bytes already in memory (decoded, not gzipped). */
export function parseDigitsCsv(bytes: Uint8Array, path: string): Split {
  const text = decode(bytes, path);
  const rows = new NumericRows(text, path);
  return collect(rows, path, DIGITS_FEATURES + 1, (row, line, x, offset) => {
    for (let j = 0; j < DIGITS_FEATURES; j++) {
      const v = row[j] ?? NaN;
      if (!(v >= 0 && v <= 16)) throw corrupt(path, line, `column ${j + 1} = ${v} is outside 0–16`);
      x[offset + j] = v / 16;
    }
    const label = row[DIGITS_FEATURES] ?? NaN;
    if (!Number.isInteger(label) || label < 0 || label > 9) {
      throw corrupt(path, line, `label ${label} is not a digit 0–9`);
    }
    return label;
  });
}

function checkSignHeader(header: string, path: string, line: number): void {
  const cols = header.split(',').map((c) => c.trim().replace(/^"|"$/g, ''));
  const ok =
    cols.length === 1 + SIGN_PIXELS &&
    cols[0] === 'label' &&
    cols.every((c, i) => i === 0 || c === `pixel${i}`);
  if (!ok) {
    const shown = header.length > 60 ? `${header.slice(0, 60)}…` : header;
    throw corrupt(
      path,
      line,
      `expected the header "label,pixel1,…,pixel784" (785 columns), found ${cols.length} columns: "${shown}"`,
    );
  }
}

type RowHandler = (row: Float64Array, line: number, x: Float32Array, offset: number) => number;

/** Parses every remaining row into a Split; `handle` scales features into x and returns the class. */
function collect(rows: NumericRows, path: string, columns: number, handle: RowHandler): Split {
  const features = columns - 1;
  const capacity = rows.remainingLineEstimate();
  let x = new Float32Array(capacity * features);
  let y = new Int32Array(capacity);
  const row = new Float64Array(columns);
  let count = 0;
  for (let line = rows.nextRow(row); line !== undefined; line = rows.nextRow(row)) {
    y[count] = handle(row, line, x, count * features);
    count++;
  }
  if (count === 0) throw corrupt(path, rows.lineNumber, 'no data rows');
  if (count < capacity) {
    x = x.slice(0, count * features);
    y = y.slice(0, count);
  }
  return { x, y, count };
}

/** Line-by-line numeric CSV scanner over a whole decoded file; blank lines are skipped. */
export class NumericRows {
  private pos = 0;
  lineNumber = 0;

  constructor(
    private readonly text: string,
    private readonly path: string,
  ) {}

  remainingLineEstimate(): number {
    let n = 1;
    for (let i = this.text.indexOf('\n', this.pos); i !== -1; i = this.text.indexOf('\n', i + 1)) n++;
    return n;
  }

  nextLine(): { text: string; line: number } | undefined {
    while (this.pos < this.text.length) {
      let end = this.text.indexOf('\n', this.pos);
      if (end === -1) end = this.text.length;
      let stop = end;
      if (stop > this.pos && this.text.charCodeAt(stop - 1) === 13) stop--; // CRLF
      const start = this.pos;
      this.pos = end + 1;
      this.lineNumber++;
      if (stop > start && this.text.slice(start, stop).trim() !== '') {
        return { text: this.text.slice(start, stop), line: this.lineNumber };
      }
    }
    return undefined;
  }

  /** Fills `out` with the next row's values and returns its line number, or undefined at the end. */
  nextRow(out: Float64Array): number | undefined {
    const next = this.nextLine();
    if (next === undefined) return undefined;
    const { text, line } = next;
    let col = 0;
    let start = 0;
    for (let i = 0; i <= text.length; i++) {
      if (i < text.length && text.charCodeAt(i) !== 44 /* , */) continue;
      if (col >= out.length) {
        throw corrupt(this.path, line, `expected ${out.length} columns, found more (${countColumns(text)})`);
      }
      out[col] = parseField(text, start, i, this.path, line, col + 1);
      col++;
      start = i + 1;
    }
    if (col !== out.length) throw corrupt(this.path, line, `expected ${out.length} columns, found ${col}`);
    return line;
  }
}

/** Fast path for plain non-negative integers; anything else goes through Number(). */
function parseField(
  text: string,
  start: number,
  end: number,
  path: string,
  line: number,
  col: number,
): number {
  let v = 0;
  let i = start;
  for (; i < end; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    v = v * 10 + c;
  }
  if (i === end && end > start) return v;
  const field = text.slice(start, end).trim();
  const n = field === '' ? NaN : Number(field);
  if (!Number.isFinite(n)) throw corrupt(path, line, `column ${col} is not a number: "${field}"`);
  return n;
}

export function countColumns(text: string): number {
  let n = 1;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 44) n++;
  return n;
}

export function decode(bytes: Uint8Array, path: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (e) {
    throw new DatasetError('corrupt', `${path}: not a UTF-8 text file`, { path, cause: e });
  }
}

export function corrupt(path: string, line: number, msg: string): DatasetError {
  return new DatasetError('corrupt', `${path}:${line}: ${msg}`, { path, line });
}
