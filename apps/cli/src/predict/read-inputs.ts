import { basename } from 'node:path';
import { npyValues, readIdx, readNpy, readNumericCsv } from '@chorus/data';
import { ChorusError } from '@chorus/protocol';

type Format = 'csv' | 'npy' | 'idx';

/** `.csv` / `.txt` → CSV, `.npy` → NumPy, anything else → IDX (each may be gzipped: `.gz`). */
export function formatOf(path: string): Format {
  const name = basename(path).toLowerCase().replace(/\.gz$/, '');
  if (name.endsWith('.csv') || name.endsWith('.txt')) return 'csv';
  if (name.endsWith('.npy')) return 'npy';
  return 'idx';
}

const bad = (message: string) => new ChorusError('invalid-input', message);

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
        ? await readNpy(path).then((a) => ({ shape: a.shape, values: npyValues(a) }))
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
