import { basename } from 'node:path';
import { readIdx, readNpy, readNumericCsv } from '@chorus/data';
import { ChorusError } from '@chorus/protocol';

/** Raw input rows for `chorus predict`, and the labels a CSV's label column held. */
export interface PredictInputs {
  x: Float32Array;
  count: number;
  labels?: Int32Array;
}

type Format = 'csv' | 'npy' | 'idx';

/** `.csv` / `.txt` → CSV, `.npy` → NumPy, anything else → IDX (each may be gzipped: `.gz`). */
export function formatOf(path: string): Format {
  const name = basename(path).toLowerCase().replace(/\.gz$/, '');
  if (name.endsWith('.csv') || name.endsWith('.txt')) return 'csv';
  if (name.endsWith('.npy')) return 'npy';
  return 'idx';
}

const bad = (message: string) => new ChorusError('invalid-input', message);

/**
 * Reads `count` × `featureSize` raw values from a CSV, `.npy` or IDX file. A CSV may carry one
 * more column, the label: the column named `label` when the file has a header, else the last one
 * (the layout of sklearn's digits.csv).
 */
export async function readInputs(
  path: string,
  featureSize: number,
  shapeText: string,
): Promise<PredictInputs> {
  const format = formatOf(path);
  const takes = `this ensemble takes ${featureSize} values a row (shape ${shapeText})`;
  if (format === 'csv') {
    const table = await readNumericCsv(path);
    if (table.columns === featureSize) return { x: table.values, count: table.rows };
    if (table.columns !== featureSize + 1) {
      throw bad(`${path}: rows have ${table.columns} values; ${takes}, or one more for a label column`);
    }
    const labelColumn = table.header?.indexOf('label') ?? -1;
    const at = labelColumn >= 0 ? labelColumn : featureSize;
    const x = new Float32Array(table.rows * featureSize);
    const labels = new Int32Array(table.rows);
    for (let r = 0; r < table.rows; r++) {
      const row = table.values.subarray(r * table.columns, (r + 1) * table.columns);
      labels[r] = checkLabel(row[at] as number, path, r);
      x.set(row.subarray(0, at), r * featureSize);
      x.set(row.subarray(at + 1), r * featureSize + at);
    }
    return { x, count: table.rows, labels };
  }
  const { shape, values } =
    format === 'npy'
      ? await readNpy(path)
      : await readIdx(path).then((a) => ({ shape: a.dims, values: a.data }));
  const count = shape.length <= 1 ? 1 : (shape[0] as number);
  const perRow = shape.length <= 1 ? values.length : shape.slice(1).reduce((a, b) => a * b, 1);
  if (perRow !== featureSize) {
    throw bad(`${path}: an array of shape (${shape.join(', ')}) has ${perRow} values a row; ${takes}`);
  }
  if (count === 0) throw bad(`${path}: the file holds no rows`);
  return { x: values instanceof Float32Array ? values : Float32Array.from(values), count };
}

/** Labels from an IDX labels file, a `.npy` (N or N×1) or a one-column CSV: `count` classes 0…C−1. */
export async function readLabels(path: string, count: number, numClasses: number): Promise<Int32Array> {
  const format = formatOf(path);
  let values: ArrayLike<number>;
  if (format === 'csv') {
    const table = await readNumericCsv(path);
    if (table.columns !== 1) throw bad(`${path}: a labels CSV has one column, this one has ${table.columns}`);
    values = table.values;
  } else {
    const array =
      format === 'npy'
        ? await readNpy(path)
        : await readIdx(path).then((a) => ({ shape: a.dims, values: a.data }));
    if (array.shape.length > 2 || (array.shape.length === 2 && array.shape[1] !== 1)) {
      throw bad(`${path}: labels must be a vector, got shape (${array.shape.join(', ')})`);
    }
    values = array.values;
  }
  if (values.length !== count) throw bad(`${path} holds ${values.length} labels for ${count} input rows`);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const label = checkLabel(values[i] as number, path, i);
    if (label >= numClasses)
      throw bad(`${path}: label ${label} of row ${i} is not a class 0–${numClasses - 1}`);
    labels[i] = label;
  }
  return labels;
}

function checkLabel(value: number, path: string, row: number): number {
  if (!Number.isInteger(value) || value < 0)
    throw bad(`${path}: the label of row ${row} is ${value}, not a class number`);
  return value;
}
