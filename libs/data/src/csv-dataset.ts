import { createHash } from 'node:crypto';
import { classLabelsOf, relabel } from './class-labels';
import { readCsvTable } from './csv-table';
import { DatasetError } from './errors';
import { normalizeSplits } from './normalize';
import { createRng, permutation } from './rng';
import { subsetSplit } from './split';
import type { Dataset, LoadOptions, Split } from './types';

/** The share of rows held out as the test split when a csv has no testPath and no testFraction. */
export const DEFAULT_TEST_FRACTION = 0.2;
/** Second component of the test hold-out's rng stream: independent of the run's validation split. */
export const TEST_STREAM = 0x7e57;

/**
 * Loads a `csv` dataset (README "Your own data"): `path` the training file (or the only one),
 * `testPath` the test file, else a `testFraction` held out with `seed`. Features are numeric
 * columns; the label column (`labelColumn`, default the last) holds integers or strings, whose
 * sorted distinct values are the classes (class-labels.ts). Normalisation statistics come from the
 * training split only and are recorded in `preprocess`.
 */
export async function loadCsvDataset(options: LoadOptions): Promise<Dataset> {
  const path = options.path;
  if (path === undefined) throw new DatasetError('invalid', 'a csv dataset needs `path` (--dataset-path): the CSV file');
  const common = { labelColumn: options.labelColumn, limits: options.limits, onProgress: options.onProgress };
  const trainTable = await readCsvTable(path, common);
  const labelName =
    trainTable.header?.[trainTable.labelIndex] !== undefined
      ? `"${trainTable.header[trainTable.labelIndex]}"`
      : String(trainTable.labelIndex);
  const classes = classLabelsOf(trainTable.labelKeys, `${path}: label column ${labelName}`);
  relabel(trainTable.labels, trainTable.labelKeys, classes);
  const all: Split = { x: trainTable.x, y: trainTable.labels, count: trainTable.count };
  const features = trainTable.features;

  let train: Split;
  let test: Split;
  const hash = createHash('sha256').update(trainTable.sha256);
  let how: string;
  if (options.testPath !== undefined) {
    const testTable = await readCsvTable(options.testPath, {
      ...common,
      knownLabels: classes.index,
      columns: trainTable.columns,
    });
    train = all;
    test = { x: testTable.x, y: testTable.labels, count: testTable.count };
    hash.update(testTable.sha256);
    how = `test split ${options.testPath}`;
  } else {
    const fraction = options.testFraction ?? DEFAULT_TEST_FRACTION;
    const seed = options.seed ?? 1;
    ({ train, test } = holdOut(all, fraction, seed, path));
    how = `${fraction * 100}% held out as the test split with seed ${seed}`;
    hash.update(JSON.stringify({ testFraction: fraction, seed }));
  }
  const normalize = options.normalize ?? 'standard';
  const preprocess = normalizeSplits(train, test, features, normalize);
  hash.update(JSON.stringify({ labelColumn: trainTable.labelIndex, normalize }));
  return {
    name: 'csv',
    inputShape: [features],
    numClasses: classes.names.length,
    train,
    test,
    sha256: hash.digest('hex'),
    source: `${path} (label column ${labelName}, ${how}, ${normalize} normalisation)`,
    classNames: classes.names,
    preprocess,
  };
}

/** A seeded `fraction` of the rows as the test split (rows keep their order in both parts). */
function holdOut(all: Split, fraction: number, seed: number, path: string): { train: Split; test: Split } {
  const k = Math.round(all.count * fraction);
  if (!(fraction > 0 && fraction < 1) || k < 1 || k >= all.count) {
    throw new DatasetError(
      'invalid',
      `${path}: a test fraction of ${fraction} of ${all.count} rows leaves ${k} test and ${all.count - k} training rows; both need at least one`,
    );
  }
  const perm = permutation(all.count, createRng(seed, TEST_STREAM));
  const test = subsetSplit(all, perm.slice(0, k).sort());
  return { train: keepRowsInPlace(all, perm.slice(k).sort()), test };
}

/**
 * The rows `ascending` of `split`, moved to its front in place (a row only ever moves forward, so
 * nothing is overwritten before it is read): no second copy of a large training split.
 */
function keepRowsInPlace(split: Split, ascending: Int32Array): Split {
  const f = split.count === 0 ? 0 : split.x.length / split.count;
  for (let r = 0; r < ascending.length; r++) {
    const i = ascending[r] as number;
    if (i !== r) {
      split.x.copyWithin(r * f, i * f, (i + 1) * f);
      split.y[r] = split.y[i] as number;
    }
  }
  return { x: split.x.subarray(0, ascending.length * f), y: split.y.subarray(0, ascending.length), count: ascending.length };
}
