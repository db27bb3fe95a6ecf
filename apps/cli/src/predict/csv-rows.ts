import { createInterface } from 'node:readline';
import { ChorusError } from '@chorus/protocol';
import { openByteStream } from './byte-stream';
import type { InputBatch } from './input-source';

const bad = (message: string) => new ChorusError('invalid-input', message);

/**
 * A CSV's rows, read line by line (plain or gzipped), `batchSize` at a time. An optional header
 * (a first line with a field that is not a number); rows of `features` values, or one more, the
 * label: the column named `label` when the file has a header, else the last one (the layout of
 * sklearn's digits.csv). Errors name the file and line.
 */
export async function* streamCsvRows(
  path: string,
  features: number,
  takes: string,
  batchSize: number,
): AsyncGenerator<InputBatch> {
  const stream = await openByteStream(path);
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let columns = 0;
  let labelAt = -1;
  let line = 0;
  let batch = newBatch(batchSize, features, false);
  let rows = 0;
  try {
    for await (const text of lines) {
      line++;
      if (text.trim() === '') continue;
      const fields = text.split(',').map((f) => f.trim());
      if (columns === 0) {
        const names = fields.map((f) => f.replace(/^"|"$/g, ''));
        const isHeader = names.some((f) => f === '' || !Number.isFinite(Number(f)));
        columns = fields.length;
        if (columns !== features && columns !== features + 1) {
          throw bad(`${path}: rows have ${columns} values; ${takes}, or one more for a label column`);
        }
        if (columns === features + 1) labelAt = isHeader && names.includes('label') ? names.indexOf('label') : features;
        batch = newBatch(batchSize, features, labelAt >= 0);
        if (isHeader) continue;
      }
      if (fields.length !== columns) {
        throw bad(`${path}:${line}: expected ${columns} columns, found ${fields.length}`);
      }
      const r = batch.n;
      let into = r * features;
      for (let c = 0; c < columns; c++) {
        const value = Number(fields[c]);
        if (fields[c] === '' || !Number.isFinite(value)) {
          throw bad(`${path}:${line}: column ${c + 1} is "${fields[c]}", not a number`);
        }
        if (c !== labelAt) batch.x[into++] = value;
        else if (!Number.isInteger(value) || value < 0) {
          throw bad(`${path}: the label of row ${rows} is ${value}, not a class number`);
        } else (batch.labels as Int32Array)[r] = value;
      }
      batch.n++;
      rows++;
      if (batch.n === batchSize) {
        yield batch;
        batch = newBatch(batchSize, features, labelAt >= 0);
      }
    }
    if (rows === 0) throw bad(`${path}: the file holds no rows`);
    if (batch.n > 0) yield trim(batch, features);
  } finally {
    lines.close();
    stream.destroy();
  }
}

function newBatch(size: number, features: number, labelled: boolean): InputBatch {
  return {
    x: new Float32Array(size * features),
    n: 0,
    ...(labelled ? { labels: new Int32Array(size) } : {}),
  };
}

function trim(batch: InputBatch, features: number): InputBatch {
  return {
    x: batch.x.subarray(0, batch.n * features),
    n: batch.n,
    ...(batch.labels ? { labels: batch.labels.subarray(0, batch.n) } : {}),
  };
}
