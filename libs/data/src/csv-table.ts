import { createHash } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import { DatasetError } from './errors';
import type { ReadLimits } from './io';
import { openByteStream } from './stream-read';
import type { LoadProgress } from './types';
import { labelKey, numberOf, parseDecimal, unquote } from './csv-fields';

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

/**
 * Streams a CSV file (comma-separated, optionally gzipped, first line a header when one of its
 * feature fields is not a number or when the label column is named) into a CsvTable: arrays that
 * grow by doubling, never an object per row, so memory stays about twice the float32 data. Fields
 * may be wrapped in double quotes but may not contain commas. Every malformed row is a `corrupt`
 * DatasetError naming the file, the line and the column.
 */
export async function readCsvTable(path: string, options: CsvTableOptions = {}): Promise<CsvTable> {
  const stream = await openByteStream(path, options.limits);
  const hash = createHash('sha256');
  const decoder = new StringDecoder('utf8');
  const reader = new RowReader(path, options);
  let pending = '';
  let lastReport = 0;
  for await (const chunk of stream.chunks) {
    hash.update(chunk);
    const text = pending + decoder.write(chunk);
    let start = 0;
    for (let nl = text.indexOf('\n', start); nl !== -1; nl = text.indexOf('\n', start)) {
      reader.line(text.slice(start, nl));
      start = nl + 1;
    }
    pending = text.slice(start);
    if (options.onProgress && reader.rows.count - lastReport >= 50_000) {
      lastReport = reader.rows.count;
      options.onProgress({ path, bytesRead: stream.bytesRead(), totalBytes: stream.totalBytes, rows: lastReport });
    }
  }
  pending += decoder.end();
  if (pending !== '') reader.line(pending);
  options.onProgress?.({ path, bytesRead: stream.totalBytes, totalBytes: stream.totalBytes, rows: reader.rows.count });
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
  private lineNumber = 0;
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

  line(raw: string): void {
    this.lineNumber++;
    let text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (this.lineNumber === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (text.trim() === '') return;
    if (this.columns === -1) {
      if (this.first(text.split(',').map(unquote))) return; // a header
    }
    this.row(text);
  }

  /** Sets up the columns from the first line; true when it is a header. */
  private first(fields: string[]): boolean {
    const { labelColumn, columns } = this.options;
    this.columns = fields.length;
    if (columns !== undefined && fields.length !== columns) {
      throw this.corrupt(`has ${fields.length} columns, the training file ${columns}`);
    }
    if (this.columns < 2) throw this.corrupt(`has ${this.columns} column: needs at least one feature and the label`);
    let isHeader: boolean;
    if (typeof labelColumn === 'string') {
      const at = fields.indexOf(labelColumn);
      if (at === -1) {
        const shown = fields.slice(0, 20).map((f) => `"${f}"`).join(', ');
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

  /** Field boundaries of the current line: field c is text[starts[c], ends[c]). */
  private starts = new Int32Array(0);
  private ends = new Int32Array(0);

  /** One data row, scanned in place (no array of field strings: this is the hot loop). */
  private row(text: string): void {
    const columns = this.columns;
    if (this.starts.length !== columns) {
      this.starts = new Int32Array(columns);
      this.ends = new Int32Array(columns);
    }
    const { starts, ends } = this;
    let found = 0;
    let start = 0;
    for (let i = 0; i <= text.length; i++) {
      if (i < text.length && text.charCodeAt(i) !== 44 /* , */) continue;
      if (found < columns) {
        starts[found] = start;
        ends[found] = i;
      }
      found++;
      start = i + 1;
    }
    if (found !== columns) {
      throw this.corrupt(`expected ${columns} columns (as on the first line), found ${found}`);
    }
    const label = this.labelIndex;
    const labelField = unquote(text.slice(starts[label], ends[label]));
    if (labelField === '') throw this.corrupt(`${this.columnName(label)} (the label) is empty`);
    const offset = this.rows.add(this.classOf(labelKey(labelField)));
    const x = this.rows.x;
    let j = offset;
    for (let c = 0; c < columns; c++) {
      if (c === label) continue;
      let v = parseDecimal(text, starts[c] as number, ends[c] as number);
      if (Number.isNaN(v)) {
        const field = unquote(text.slice(starts[c], ends[c]));
        v = numberOf(field);
        if (!Number.isFinite(v)) {
          throw this.corrupt(
            field === ''
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

  private corrupt(message: string): DatasetError {
    return new DatasetError('corrupt', `${this.path}:${this.lineNumber}: ${message}`, {
      path: this.path,
      line: this.lineNumber,
    });
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
