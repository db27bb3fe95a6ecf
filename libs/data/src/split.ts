import type { RunConfig } from '@chorus/protocol';
import { DatasetError } from './errors';
import { createRng, permutation } from './rng';
import { featureSize, type Split } from './types';

/** The rows `indices` of `split`, in that order (copies). */
export function subsetSplit(split: Split, indices: ArrayLike<number>): Split {
  const f = featureSize(split);
  const x = new Float32Array(indices.length * f);
  const y = new Int32Array(indices.length);
  for (let r = 0; r < indices.length; r++) {
    const i = indices[r] ?? -1;
    if (!Number.isInteger(i) || i < 0 || i >= split.count) {
      throw new DatasetError('invalid', `row index ${i} is outside the split (0…${split.count - 1})`);
    }
    x.set(split.x.subarray(i * f, (i + 1) * f), r * f);
    y[r] = split.y[i] ?? 0;
  }
  return { x, y, count: indices.length };
}

/** A seeded random subset of `k` of `n` row indices, in ascending order; the rest too. */
function chooseRows(n: number, k: number, seed: number): { chosen: Int32Array; rest: Int32Array } {
  const perm = permutation(n, createRng(seed));
  const chosen = perm.slice(0, k).sort();
  const rest = perm.slice(k).sort();
  return { chosen, rest };
}

/**
 * Moves a seeded random `fraction` of `train` (rounded, at least one row, never all) into a
 * validation split. Rows keep their original relative order in both parts. The test split is
 * never involved: validation data only ever comes from train.
 */
export function splitValidation(
  train: Split,
  fraction: number,
  seed: number,
): { train: Split; validation: Split } {
  if (!(fraction > 0 && fraction < 1)) {
    throw new DatasetError('invalid', `validation fraction must be in (0, 1), got ${fraction}`);
  }
  const k = Math.round(train.count * fraction);
  if (k < 1 || k >= train.count) {
    throw new DatasetError(
      'invalid',
      `a validation fraction of ${fraction} of ${train.count} training rows leaves ${k} validation and ` +
        `${train.count - k} training rows; both need at least one`,
    );
  }
  const { chosen, rest } = chooseRows(train.count, k, seed);
  return { train: subsetSplit(train, rest), validation: subsetSplit(train, chosen) };
}

/**
 * At most `limit` rows of `split` (for --train-limit): a seeded random subset in original order when
 * `seed` is given, otherwise the first `limit` rows. Returns `split` itself when it is small enough.
 */
export function limitSplit(split: Split, limit: number, seed?: number): Split {
  if (!Number.isInteger(limit) || limit < 1) {
    throw new DatasetError('invalid', `limit must be a positive integer, got ${limit}`);
  }
  if (limit >= split.count) return split;
  if (seed === undefined) {
    const f = featureSize(split);
    return { x: split.x.slice(0, limit * f), y: split.y.slice(0, limit), count: limit };
  }
  return subsetSplit(split, chooseRows(split.count, limit, seed).chosen);
}

/** The run config fields that choose a run's rows (see `splitSettingsOf` in derive-run.ts). */
export type SplitSettings = Pick<RunConfig, 'seed' | 'validationFraction' | 'trainLimit'>;

/**
 * The splits one run trains and evaluates on, derived from the dataset and the run's settings only:
 * at most `trainLimit` training rows, a `validationFraction` of them held out, the test split as is.
 * Part of `deriveRun`, which every process of a run calls.
 */
export function prepareRunData(
  dataset: { train: Split; test: Split },
  run: SplitSettings,
): { train: Split; validation: Split; test: Split } {
  const pool = run.trainLimit ? limitSplit(dataset.train, run.trainLimit, run.seed) : dataset.train;
  const { train, validation } = splitValidation(pool, run.validationFraction, run.seed);
  return { train, validation, test: dataset.test };
}
