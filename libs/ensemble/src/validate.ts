import { EnsembleInputError } from './errors';

/** Default tolerance on a probability row's sum (float32 softmax rows are off by ~1e-7). */
export const ROW_SUM_TOLERANCE = 1e-3;

export function assertNumClasses(numClasses: number): void {
  if (!Number.isInteger(numClasses) || numClasses < 2) {
    throw new EnsembleInputError(`numClasses must be an integer ≥ 2, got ${numClasses}`);
  }
}

/**
 * Checks that `probs` is an N×C row-major array of probabilities: a Float32Array of length
 * rows·numClasses, every value finite and ≥ 0, every row summing to 1 within `tolerance`.
 * Throws an EnsembleInputError naming the first offending row (and class).
 */
export function validateProbabilities(
  probs: Float32Array,
  rows: number,
  numClasses: number,
  tolerance = ROW_SUM_TOLERANCE,
): void {
  checkProbabilities(probs, rows, numClasses, tolerance, 'probabilities');
}

/** validateProbabilities with `what` (e.g. "member 3 (test)") at the start of the message. */
export function checkProbabilities(
  probs: Float32Array,
  rows: number,
  numClasses: number,
  tolerance: number,
  what: string,
): void {
  if (!(probs instanceof Float32Array)) {
    throw new EnsembleInputError(`${what}: expected a Float32Array`);
  }
  if (!Number.isInteger(rows) || rows < 0) {
    throw new EnsembleInputError(`${what}: rows must be a non-negative integer, got ${rows}`);
  }
  assertNumClasses(numClasses);
  if (!(tolerance >= 0)) {
    throw new EnsembleInputError(`${what}: tolerance must be ≥ 0, got ${tolerance}`);
  }
  if (probs.length !== rows * numClasses) {
    throw new EnsembleInputError(
      `${what}: length ${probs.length} does not match ${rows} rows × ${numClasses} classes = ${rows * numClasses}`,
    );
  }
  for (let r = 0; r < rows; r++) {
    const base = r * numClasses;
    let sum = 0;
    for (let c = 0; c < numClasses; c++) {
      const v = probs[base + c] as number;
      // One comparison catches NaN and negatives; +Infinity needs its own.
      if (!(v >= 0) || v === Infinity) {
        const problem = Number.isNaN(v) ? 'is NaN' : v === Infinity ? 'is infinite' : `is negative (${v})`;
        throw new EnsembleInputError(`${what}: row ${r}, class ${c} ${problem}`);
      }
      sum += v;
    }
    if (Math.abs(sum - 1) > tolerance) {
      throw new EnsembleInputError(`${what}: row ${r} sums to ${sum}, expected 1 ± ${tolerance}`);
    }
  }
}

/** Checks ground-truth labels are class indices in [0, numClasses). */
export function assertTruth(truth: Int32Array, numClasses: number, what = 'truth'): void {
  if (!(truth instanceof Int32Array)) throw new EnsembleInputError(`${what}: expected an Int32Array`);
  for (let i = 0; i < truth.length; i++) {
    const y = truth[i] as number;
    if (y < 0 || y >= numClasses) {
      throw new EnsembleInputError(`${what}: sample ${i} has label ${y}, outside [0, ${numClasses})`);
    }
  }
}

/**
 * Validates a set of ensemble members (same shape, proper probabilities) and returns the number
 * of rows, inferred from the first member.
 */
export function validateMembers(
  members: readonly Float32Array[],
  numClasses: number,
  split?: string,
  expectedRows?: number,
): number {
  assertNumClasses(numClasses);
  const where = split ? ` (${split})` : '';
  if (!Array.isArray(members) || members.length === 0) {
    throw new EnsembleInputError(`no ensemble members${where}: need at least one probability array`);
  }
  const first = members[0] as Float32Array;
  if (!(first instanceof Float32Array))
    throw new EnsembleInputError(`member 0${where}: expected a Float32Array`);
  let rows = expectedRows;
  if (rows === undefined) {
    if (first.length % numClasses !== 0) {
      throw new EnsembleInputError(
        `member 0${where}: length ${first.length} is not a multiple of numClasses = ${numClasses}`,
      );
    }
    rows = first.length / numClasses;
  }
  members.forEach((m, i) =>
    checkProbabilities(m, rows, numClasses, ROW_SUM_TOLERANCE, `member ${i}${where}`),
  );
  return rows;
}

/** Checks weights: one per member, finite, ≥ 0, not all zero. Returns them as a Float64Array. */
export function validateWeights(weights: readonly number[], memberCount: number): Float64Array {
  if (!Array.isArray(weights)) throw new EnsembleInputError('weights must be an array of numbers');
  if (weights.length !== memberCount) {
    throw new EnsembleInputError(`got ${weights.length} weights for ${memberCount} members`);
  }
  let total = 0;
  weights.forEach((w, i) => {
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) {
      throw new EnsembleInputError(`weight ${i} must be a finite number ≥ 0, got ${w}`);
    }
    total += w;
  });
  if (total <= 0)
    throw new EnsembleInputError('weights are all zero: at least one member needs a weight > 0');
  return Float64Array.from(weights);
}
