import { fmix32 } from '@chorus/protocol';

/**
 * Assigns each of `rows` samples to one of `folds` cross-validation folds, seeded: the rows are
 * ordered by fmix32(fmix32(seed) + row) (a bijection of 32-bit integers, so no two keys collide)
 * and dealt out in turn, so the fold sizes differ by at most one.
 */
export function assignFolds(rows: number, folds: number, seed: number): Int32Array {
  const mixedSeed = fmix32(seed);
  const keys = new Uint32Array(rows);
  for (let r = 0; r < rows; r++) keys[r] = fmix32((mixedSeed + r) | 0);
  const order = Array.from({ length: rows }, (_, r) => r).sort(
    (a, b) => (keys[a] as number) - (keys[b] as number),
  );
  const fold = new Int32Array(rows);
  order.forEach((row, rank) => {
    fold[row] = rank % folds;
  });
  return fold;
}
