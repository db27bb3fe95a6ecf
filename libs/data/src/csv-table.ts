import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { CsvError, parse, type InfoRecord } from 'csv-parse';
import { DatasetError } from './errors';
import type { ReadLimits } from './io';
import { openByteStream } from './stream-read';
import type { LoadProgress } from './types';
import { labelKey, numberOf, parseDecimal } from './csv-fields';

/** The most classes a dataset may have (a label column of ids, not classes, is refused). */
export const MAX_CLASSES = 10_000;

export interface CsvTableOptions {
  /** The label column, by header name or 0-based index (default: the last). */
  labelColumn?: string | number | undefined;
  /**
   * The classes of the training file (label key → class): a test file's labels must be among them,
   * and its `labels` are these classes. Without it, `labels` are indices into `labelKeys`.
   */
  knownLabels?: ReadonlyMap<string, number> | undefined;
  /** The column count a test file must have (the training file's). */
  columns?: number | undefined;
  limits?: ReadLimits | undefined;
  onProgress?: ((progress: LoadProgress) => void) | undefined;
}

/** A CSV file of numeric features and one label column, read into typed arrays. */
export interface CsvTable {
  /** count × features, row-major, in file order. */
  x: Float32Array;
  labels: Int32Array;
  /** Distinct label keys in order of first appearance (integers written canonically: "07" → "7"). */
  labelKeys: string[];
  count: number;
  features: number;
  columns: number;
  labelIndex: number;
  /** Column names, when the file has a header. */
  header: string[] | undefined;
  /** sha256 of the file's decompressed bytes. */
  sha256: string;
}

/** The longest record csv-parse assembles: a quoted field that is never closed stops here, not at the end of memory. */
export const MAX_CSV_RECORD_BYTES = 64 * 1024 * 1024;

/**
 * Streams a CSV file (RFC 4180: comma-separated, fields optionally quoted, optionally gzipped; first
 * line a header when one of its feature fields is not a number or when the label column is named)
 * into a CsvTable. The text is tokenised by csv-parse, one record at a time; its fields go straight
 * into arrays that grow by doubling (no object is kept per row), so memory stays about twice the
 * float32 data. Every malformed row is a `corrupt` DatasetError naming the file, the line and the
 * column.
 */
export async function readCsvTable(path: string, options: CsvTableOptions = {}): Promise<CsvTable> {
  const stream = await openByteStream(path, options.limits);
  const hash = createHash('sha256');
  const reader = new RowReader(path, options);
  let lastReport = 0;
  const parser = parse({
    bom: true,
    trim: true,
    skip_empty_lines: true,
    // Ragged rows are reported by RowReader, with the column count the first row set.
    relax_column_count: true,
    max_record_size: MAX_CSV_RECORD_BYTES,
    on_record: (fields: string[], info: InfoRecord) => {
      reader.record(fields, info.lines, info.empty_lines);
      if (options.onProgress && reader.rows.count - lastReport >= 50_000) {
        lastReport = reader.rows.count;
        options.onProgress({
          path,
          bytesRead: stream.bytesRead(),
          totalBytes: stream.totalBytes,
          rows: lastReport,
        });
      }
      return null; // nothing is passed downstream: the row is in the arrays
    },
  });
  parser.resume();
  try {
    await pipeline(async function* () {
      for await (const chunk of stream.chunks) {
        hash.update(chunk);
        yield chunk;
      }
    }, parser);
  } catch (e) {
    throw e instanceof CsvError ? reader.syntaxError(e) : e;
  }
  options.onProgress?.({
    path,
    bytesRead: stream.totalBytes,
    totalBytes: stream.totalBytes,
    rows: reader.rows.count,
  });
  return reader.finish(hash.digest('hex'));
}

class GrowingRows {
  x: Float32Array;
  labels: Int32Array;
  count = 0;
  constructor(readonly features: number) {
    this.x = new Float32Array(1024 * Math.max(1, features));
    this.labels = new Int32Array(1024);
  }
  /** Room for one more row; returns its offset in x. */
  add(label: number): number {
    if (this.count === this.labels.length) {
      const labels = new Int32Array(this.labels.length * 2);
      labels.set(this.labels);
      this.labels = labels;
      const x = new Float32Array(this.labels.length * this.features);
      x.set(this.x);
      this.x = x;
    }
    this.labels[this.count] = label;
    return this.count++ * this.features;
  }
}

class RowReader {
  /** The current record and the line it ends on; the blank lines csv-parse had skipped by then. */
  private fields: string[] = [];
  private lastEnd = 0;
  private lastEmpty = 0;
  private columns = -1;
  private labelIndex = -1;
  private header: string[] | undefined;
  rows = new GrowingRows(0);
  private readonly keys = new Map<string, number>();
  private readonly labelKeys: string[] = [];

  constructor(
    private readonly path: string,
    private readonly options: CsvTableOptions,
  ) {}

  /** One record from csv-parse: its unquoted, trimmed fields and the line it ends on. */
  record(fields: string[], endLine: number, emptyLines: number): void {
    this.fields = fields;
    this.lastEnd = endLine;
    this.lastEmpty = emptyLines;
    if (fields.length === 1 && fields[0] === '') return; // a line of blanks
    if (this.columns === -1 && this.first(fields)) return; // a header
    this.row(fields);
  }

  /** A syntax error csv-parse found (quotes), as a DatasetError naming the line and column. */
  syntaxError(e: CsvError): DatasetError {
    const column = typeof e['column'] === 'number' ? this.columnName(e['column']) : 'a field';
    const empty = typeof e['empty_lines'] === 'number' ? e['empty_lines'] : this.lastEmpty;
    // The record in error starts after the last one read and the blank lines since.
    const line = this.lastEnd + 1 + Math.max(0, empty - this.lastEmpty);
    const corrupt = (message: string) => this.corrupt(message, line);
    switch (e.code) {
      case 'INVALID_OPENING_QUOTE':
        return corrupt(
          `${column}: a quote inside an unquoted field: quote the whole field and double its quotes ("a ""b"" c")`,
        );
      case 'CSV_INVALID_CLOSING_QUOTE':
      case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE':
        return corrupt(
          `${column}: text after the closing quote of a quoted field: a quote inside one is written twice ("a ""b"" c")`,
        );
      case 'CSV_QUOTE_NOT_CLOSED':
        return corrupt('a quoted field starting on this row is never closed (the file ends inside it)');
      case 'CSV_MAX_RECORD_SIZE':
        return corrupt(
          `a row longer than ${MAX_CSV_RECORD_BYTES / 1024 / 1024} MiB: is a quoted field on it never closed?`,
        );
      default:
        return corrupt(`not a valid CSV row (${e.message})`);
    }
  }

  /** Sets up the columns from the first row; true when it is a header. */
  private first(fields: string[]): boolean {
    const { labelColumn, columns } = this.options;
    this.columns = fields.length;
    if (columns !== undefined && fields.length !== columns) {
      throw this.corrupt(`has ${fields.length} columns, the training file ${columns}`);
    }
    if (this.columns < 2)
      throw this.corrupt(`has ${this.columns} column: needs at least one feature and the label`);
    let isHeader: boolean;
    if (typeof labelColumn === 'string') {
      const at = fields.indexOf(labelColumn);
      if (at === -1) {
        const shown = fields
          .slice(0, 20)
          .map((f) => `"${f}"`)
          .join(', ');
        throw this.corrupt(
          `the label column "${labelColumn}" does not exist: the header is ${shown}${fields.length > 20 ? ', …' : ''}`,
        );
      }
      this.labelIndex = at;
      isHeader = true;
    } else {
      const at = labelColumn ?? this.columns - 1;
      if (at >= this.columns) {
        throw this.corrupt(
          `the label column ${at} does not exist: the file has ${this.columns} columns (0–${this.columns - 1})`,
        );
      }
      this.labelIndex = at;
      isHeader = fields.some((f, i) => i !== at && !Number.isFinite(numberOf(f)));
    }
    this.rows = new GrowingRows(this.columns - 1);
    if (isHeader) this.header = fields;
    return isHeader;
  }

  /** One data row: the label's class and the features, written in place (the hot loop). */
  private row(fields: string[]): void {
    const columns = this.columns;
    if (fields.length !== columns) {
      throw this.corrupt(`expected ${columns} columns (as on the first line), found ${fields.length}`);
    }
    const label = this.labelIndex;
    const labelField = fields[label] as string;
    if (labelField === '') throw this.corrupt(`${this.columnName(label)} (the label) is empty`);
    const offset = this.rows.add(this.classOf(labelKey(labelField)));
    const x = this.rows.x;
    let j = offset;
    for (let c = 0; c < columns; c++) {
      if (c === label) continue;
      const field = fields[c] as string;
      let v = parseDecimal(field, 0, field.length);
      if (Number.isNaN(v)) {
        v = numberOf(field);
        if (!Number.isFinite(v)) {
          throw this.corrupt(
            field.trim() === ''
              ? `${this.columnName(c)} is empty`
              : `${this.columnName(c)} is not a number: "${field.length > 40 ? `${field.slice(0, 40)}…` : field}"`,
          );
        }
      }
      x[j++] = v;
    }
  }

  private classOf(key: string): number {
    const known = this.options.knownLabels;
    if (known) {
      const cls = known.get(key);
      if (cls === undefined) {
        throw this.corrupt(`label "${key}" does not occur in the training file: the model cannot learn it`);
      }
      return cls;
    }
    let id = this.keys.get(key);
    if (id === undefined) {
      if (this.labelKeys.length >= MAX_CLASSES) {
        throw this.corrupt(
          `more than ${MAX_CLASSES} distinct labels in ${this.columnName(this.labelIndex)}: is it the label column (--label-column)?`,
        );
      }
      id = this.labelKeys.length;
      this.keys.set(key, id);
      this.labelKeys.push(key);
    }
    return id;
  }

  private columnName(c: number): string {
    const name = this.header?.[c];
    return name !== undefined ? `column ${c} ("${name}")` : `column ${c}`;
  }

  /** A bad row: by default the current record's first line (it may hold quoted line breaks). */
  private corrupt(message: string, line = this.lastEnd - lineBreaks(this.fields)): DatasetError {
    return new DatasetError('corrupt', `${this.path}:${line}: ${message}`, { path: this.path, line });
  }

  finish(sha256: string): CsvTable {
    const { rows } = this;
    if (rows.count === 0) {
      throw new DatasetError('corrupt', `${this.path}: no data rows`, { path: this.path });
    }
    // A copy only when the arrays are much larger than their rows (a copy costs a peak of both).
    const tight = rows.labels.length <= 1.25 * rows.count;
    const used = rows.count * rows.features;
    return {
      x: tight ? rows.x.subarray(0, used) : rows.x.slice(0, used),
      labels: tight ? rows.labels.subarray(0, rows.count) : rows.labels.slice(0, rows.count),
      labelKeys: this.labelKeys,
      count: rows.count,
      features: rows.features,
      columns: this.columns,
      labelIndex: this.labelIndex,
      header: this.header,
      sha256,
    };
  }
}

/** Line breaks inside a record's (quoted) fields: how many lines before its last it starts. */
function lineBreaks(fields: string[]): number {
  let n = 0;
  for (const field of fields) {
    for (let i = field.indexOf('\n'); i !== -1; i = field.indexOf('\n', i + 1)) n++;
  }
  return n;
}
