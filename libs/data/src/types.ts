import type { DatasetKind, DatasetPreprocess, Normalization } from '@chorus/protocol';
import type { ReadLimits } from './io';

/** One split of a dataset: `count` samples, `x` row-major (count × featureSize) scaled to [0, 1]. */
export interface Split {
  x: Float32Array;
  y: Int32Array;
  count: number;
}

export interface Dataset {
  /** A built-in dataset, or the kind of file it was read from (csv, npy). */
  name: DatasetKind;
  /** Shape of one sample, height × width × channels. */
  inputShape: number[];
  numClasses: number;
  train: Split;
  test: Split;
  /** sha256 (hex) of the dataset's decoded source bytes, see README.md. */
  sha256: string;
  /** Where the data came from (file paths or a generator description). */
  source: string;
  classNames?: string[];
  /** What was done to the features after reading (csv, npy): the statistics an export applies again. */
  preprocess?: DatasetPreprocess;
}

/** How far a large file has been read (`chorus train` shows it on stderr). */
export interface LoadProgress {
  path: string;
  /** Bytes of the file read so far (compressed bytes for a .gz), and its size. */
  bytesRead: number;
  totalBytes: number;
  rows: number;
  /** What `rows` counts (default rows of a table); for images, bytesRead/totalBytes count images too. */
  unit?: 'rows' | 'images';
}

export interface LoadOptions {
  /** A directory holding the dataset's files (or, for digits, the CSV file itself). */
  path?: string;
  /** sign-mnist: the training CSV. */
  trainPath?: string;
  /** sign-mnist and csv: the test CSV. */
  testPath?: string;
  /** csv: the label column, by header name or 0-based index (default: the last). */
  labelColumn?: string | number;
  /** csv without testPath, images without train/ and test/: the share held out as the test split, seeded by `seed` (default 0.2). */
  testFraction?: number;
  /** images: the [height, width] every image is resized to (default: their common size). */
  imageSize?: [number, number];
  /** images: 1 (grayscale) or 3 (RGB); default 1 when every image is grayscale, else 3. */
  channels?: 1 | 3;
  /** csv, npy: how features are rescaled (default standard for csv, none for npy). */
  normalize?: Normalization;
  /** Called now and then while a large file is read. */
  onProgress?: (progress: LoadProgress) => void;
  /** synthetic: generator seed (default 1); csv, images: the seed of the test hold-out. */
  seed?: number;
  /** Where files may be read from and how large they may be (io.ts); unset: read as given. */
  limits?: ReadLimits;
}

/** Number of features per sample of a split (0 for an empty split). */
export function featureSize(split: Split): number {
  return split.count === 0 ? 0 : split.x.length / split.count;
}
