import type { DatasetName } from '@chorus/protocol';
import type { ReadLimits } from './io';

/** One split of a dataset: `count` samples, `x` row-major (count × featureSize) scaled to [0, 1]. */
export interface Split {
  x: Float32Array;
  y: Int32Array;
  count: number;
}

export interface Dataset {
  name: DatasetName;
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
}

export interface LoadOptions {
  /** A directory holding the dataset's files (or, for digits, the CSV file itself). */
  path?: string;
  /** sign-mnist: the training CSV. */
  trainPath?: string;
  /** sign-mnist: the test CSV. */
  testPath?: string;
  /** synthetic: generator seed (default 1). */
  seed?: number;
  /** Where files may be read from and how large they may be (io.ts); unset: read as given. */
  limits?: ReadLimits;
}

/** Number of features per sample of a split (0 for an empty split). */
export function featureSize(split: Split): number {
  return split.count === 0 ? 0 : split.x.length / split.count;
}
