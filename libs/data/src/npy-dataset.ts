import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { unzipSync } from 'fflate';
import { classLabelsOf } from './class-labels';
import { DatasetError } from './errors';
import { checkReadablePath, readMaybeGzip } from './io';
import { normalizeSplits } from './normalize';
import { isIntegerDtype, npyValues, parseNpy, type NpyArray } from './npy';
import type { Dataset, LoadOptions, Split } from './types';

/** The four arrays of an `npy` dataset, in the order they are hashed. */
export const NPY_FILES = ['x_train', 'y_train', 'x_test', 'y_test'] as const;
type NpyName = (typeof NPY_FILES)[number];

/**
 * Loads an `npy` dataset (README "Your own data"): `path` is a directory holding x_train.npy,
 * y_train.npy, x_test.npy and y_test.npy (each may be gzipped), or one .npz archive with those
 * four arrays. x: float32, float64 or uint8 (divided by 255), one sample per first index: shape
 * (N, F) gives flat samples, (N, H, W) images [H, W, 1], (N, H, W, C) images [H, W, C]. y:
 * integers, shape (N) or (N, 1); their sorted distinct training values are the classes.
 */
export async function loadNpyDataset(options: LoadOptions): Promise<Dataset> {
  const path = options.path;
  if (path === undefined) {
    throw new DatasetError('invalid', 'an npy dataset needs `path` (--dataset-path): a directory of .npy files or an .npz file');
  }
  const arrays = await readArrays(path, options);
  const hash = createHash('sha256');
  for (const name of NPY_FILES) hash.update(arrays.bytes[name]);

  const xTrain = arrays.parsed.x_train;
  const xTest = arrays.parsed.x_test;
  const sampleShape = sampleShapeOf(xTrain, arrays.names.x_train);
  const testShape = xTest.shape.slice(1);
  if (testShape.join() !== xTrain.shape.slice(1).join()) {
    throw new DatasetError(
      'corrupt',
      `${arrays.names.x_test}: samples of shape (${testShape.join(', ')}), but ${arrays.names.x_train} has (${xTrain.shape.slice(1).join(', ')})`,
      { path: arrays.names.x_test },
    );
  }
  const scale = xTrain.dtype === 'u1' ? 255 : undefined;
  const trainY = labelsOf(arrays.parsed.y_train, xTrain.shape[0] as number, arrays.names.y_train, arrays.names.x_train);
  const testY = labelsOf(arrays.parsed.y_test, xTest.shape[0] as number, arrays.names.y_test, arrays.names.x_test);
  const classes = classLabelsOf([...new Set(Array.from(trainY, String))], `${arrays.names.y_train}`);
  const toClasses = (y: Float64Array, name: string): Int32Array =>
    Int32Array.from(y, (v, i) => {
      const c = classes.index.get(String(v));
      if (c === undefined) {
        throw new DatasetError('corrupt', `${name}: entry ${i} is label ${v}, which does not occur in the training labels`, { path: name });
      }
      return c;
    });
  const train: Split = { x: featuresOf(xTrain, arrays.names.x_train, scale), y: toClasses(trainY, arrays.names.y_train), count: trainY.length };
  const test: Split = { x: featuresOf(xTest, arrays.names.x_test, scale), y: toClasses(testY, arrays.names.y_test), count: testY.length };
  const features = sampleShape.reduce((a, b) => a * b, 1);
  const normalize = options.normalize ?? 'none';
  const preprocess = normalizeSplits(train, test, features, normalize, scale);
  hash.update(JSON.stringify({ normalize }));
  return {
    name: 'npy',
    inputShape: sampleShape,
    numClasses: classes.names.length,
    train,
    test,
    sha256: hash.digest('hex'),
    source: `${path} (${normalize} normalisation)`,
    classNames: classes.names,
    preprocess,
  };
}

interface Arrays {
  parsed: Record<NpyName, NpyArray>;
  bytes: Record<NpyName, Uint8Array>;
  /** How each array is named in messages: its file, or archive:entry. */
  names: Record<NpyName, string>;
}

async function readArrays(path: string, options: LoadOptions): Promise<Arrays> {
  let isDir: boolean;
  try {
    isDir = (await stat(options.limits ? await checkReadablePath(path, options.limits, { directory: true }) : path)).isDirectory();
  } catch (e) {
    if (e instanceof DatasetError) throw e;
    throw new DatasetError('missing', `${path}: not found (an npy dataset is a directory of .npy files or an .npz file)`, { path, cause: e });
  }
  const bytes = {} as Record<NpyName, Uint8Array>;
  const names = {} as Record<NpyName, string>;
  if (isDir) {
    for (const name of NPY_FILES) {
      const file = join(path, `${name}.npy`);
      bytes[name] = await readMaybeGzip(file, options.limits);
      names[name] = file;
    }
  } else {
    const zip = await readMaybeGzip(path, options.limits);
    let entries: Record<string, Uint8Array>;
    try {
      entries = unzipSync(zip, { filter: (f) => NPY_FILES.some((n) => f.name === `${n}.npy`) });
    } catch (e) {
      throw new DatasetError('corrupt', `${path}: not a readable .npz (zip) archive (${(e as Error).message})`, { path, cause: e });
    }
    for (const name of NPY_FILES) {
      const entry = entries[`${name}.npy`];
      if (entry === undefined) {
        throw new DatasetError('corrupt', `${path}: the archive has no ${name} array (needs ${NPY_FILES.join(', ')})`, { path });
      }
      bytes[name] = entry;
      names[name] = `${path}:${name}.npy`;
    }
  }
  const parsed = {} as Record<NpyName, NpyArray>;
  for (const name of NPY_FILES) parsed[name] = parseNpy(bytes[name], names[name]);
  return { parsed, bytes, names };
}

function sampleShapeOf(x: NpyArray, name: string): number[] {
  const s = x.shape.slice(1);
  if (x.shape.length === 0 || s.length > 3 || s.some((d) => d < 1)) {
    throw new DatasetError(
      'unsupported',
      `${name}: shape (${x.shape.join(', ')}) is not (N, features), (N, height, width) or (N, height, width, channels)`,
      { path: name },
    );
  }
  if (s.length === 0) return [1];
  if (s.length === 2) return [...s, 1];
  return s;
}

function featuresOf(x: NpyArray, name: string, scale: number | undefined): Float32Array {
  if (x.dtype !== 'f4' && x.dtype !== 'f8' && x.dtype !== 'u1') {
    throw new DatasetError('unsupported', `${name}: features of dtype ${x.dtype} are not supported: float32, float64 or uint8`, { path: name });
  }
  const values = npyValues(x);
  const out = new Float32Array(values.length);
  const perRow = x.shape.slice(1).reduce((a, b) => a * b, 1);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isFinite(v)) {
      throw new DatasetError('corrupt', `${name}: entry [${Math.floor(i / perRow)}, ${i % perRow}] is ${v}`, { path: name });
    }
    out[i] = scale !== undefined ? v / scale : v;
  }
  return out;
}

function labelsOf(y: NpyArray, rows: number, name: string, xName: string): Float64Array {
  if (!isIntegerDtype(y.dtype)) {
    throw new DatasetError('unsupported', `${name}: labels of dtype ${y.dtype} are not supported: integers`, { path: name });
  }
  if (!(y.shape.length === 1 || (y.shape.length === 2 && y.shape[1] === 1))) {
    throw new DatasetError('corrupt', `${name}: shape (${y.shape.join(', ')}) is not (N) or (N, 1)`, { path: name });
  }
  if (y.shape[0] !== rows) {
    throw new DatasetError(
      'corrupt',
      `${name}: ${y.shape[0]} labels, but ${basename(xName)} has ${rows} samples`,
      { path: name },
    );
  }
  return Float64Array.from(npyValues(y));
}
