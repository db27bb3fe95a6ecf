import { VOTING_STRATEGIES, type VotingStrategy } from '@chorus/protocol';
import { EnsembleInputError } from './errors';
import { argmaxRow } from './labels';
import { validateMembers, validateWeights } from './validate';

// The strategy names are protocol's (the keys of a run result's `ensemble`).
export { VOTING_STRATEGIES, type VotingStrategy };

/** `scores`: N×C row-major, each row sums to 1; `labels`: the ensemble's predicted class per row. */
export interface CombinedVote {
  scores: Float32Array;
  labels: Int32Array;
}

/** Probabilities below this are clamped before taking logs (geometric mean, NLL). */
export const PROBABILITY_FLOOR = 1e-12;

/**
 * Weighted vote totals within this fraction of the total weight count as tied: summing the same
 * weights in a different member order must not change the winner.
 */
const WEIGHTED_TIE_TOLERANCE = 1e-9;

/** Members per running product in the geometric mean: 1e-12^20 = 1e-240 stays above double's underflow. */
const PRODUCT_CHUNK = 20;

export function isVotingStrategy(value: unknown): value is VotingStrategy {
  return typeof value === 'string' && (VOTING_STRATEGIES as readonly string[]).includes(value);
}

export function isWeightedStrategy(strategy: VotingStrategy): boolean {
  return strategy === 'weighted-soft' || strategy === 'weighted-hard';
}

/**
 * Combines the members' N×C probability arrays with one voting strategy.
 * Members are validated (same length, finite, ≥ 0, rows summing to 1); weighted strategies need
 * `weights` (one per member, ≥ 0, not all zero — e.g. from accuracyWeights on the validation split).
 * The other strategies ignore weights, but still reject malformed ones.
 */
export function combine(
  strategy: VotingStrategy,
  members: readonly Float32Array[],
  numClasses: number,
  weights?: readonly number[],
): CombinedVote {
  assertStrategy(strategy);
  const rows = validateMembers(members, numClasses);
  if (isWeightedStrategy(strategy) && weights === undefined) {
    throw new EnsembleInputError(
      `strategy '${strategy}' needs one weight per member (use accuracyWeights on validation accuracies)`,
    );
  }
  const w = weights === undefined ? undefined : validateWeights(weights, members.length);
  return combineValidated(strategy, members, rows, numClasses, w);
}

export function assertStrategy(strategy: unknown): asserts strategy is VotingStrategy {
  if (!isVotingStrategy(strategy)) {
    throw new EnsembleInputError(
      `unknown voting strategy '${String(strategy)}'; expected one of ${VOTING_STRATEGIES.join(', ')}`,
    );
  }
}

/**
 * combine() without the checks: members, rows and weights are already validated, and
 * `memberLabels` (optional) are the members' argmax labels, reused by the hard votes.
 */
export function combineValidated(
  strategy: VotingStrategy,
  members: readonly Float32Array[],
  rows: number,
  numClasses: number,
  weights: Float64Array | undefined,
  memberLabels?: readonly Int32Array[],
): CombinedVote {
  switch (strategy) {
    case 'hard':
      return hardVote(members, rows, numClasses, undefined, memberLabels);
    case 'weighted-hard':
      return hardVote(members, rows, numClasses, requireWeights(strategy, weights), memberLabels);
    case 'soft':
      return softVote(members, rows, numClasses, undefined);
    case 'weighted-soft':
      return softVote(members, rows, numClasses, requireWeights(strategy, weights));
    case 'geometric':
      return geometricVote(members, rows, numClasses);
  }
}

function requireWeights(strategy: VotingStrategy, weights: Float64Array | undefined): Float64Array {
  if (weights === undefined) throw new EnsembleInputError(`strategy '${strategy}' needs weights`);
  return weights;
}

function sumOf(weights: Float64Array): number {
  let total = 0;
  for (let m = 0; m < weights.length; m++) total += weights[m] as number;
  return total;
}

/**
 * Majority vote of the members' argmax labels (each member's vote counts its weight, or 1).
 * scores = (weighted) vote share. Ties between top classes go to the class with the larger
 * (weighted) summed member probability, then to the lower index. `memberLabels`, when given, are
 * the members' argmax labels already computed (evaluateEnsemble has them).
 */
function hardVote(
  members: readonly Float32Array[],
  rows: number,
  numClasses: number,
  weights: Float64Array | undefined,
  memberLabels: readonly Int32Array[] | undefined,
): CombinedVote {
  const memberCount = members.length;
  const total = weights ? sumOf(weights) : memberCount;
  const tieSlack = weights ? WEIGHTED_TIE_TOLERANCE * total : 0;
  const scores = new Float32Array(rows * numClasses);
  const labels = new Int32Array(rows);
  const votes = new Float64Array(numClasses);
  for (let r = 0; r < rows; r++) {
    const base = r * numClasses;
    for (let c = 0; c < numClasses; c++) votes[c] = 0;
    for (let m = 0; m < memberCount; m++) {
      const vote = memberLabels
        ? ((memberLabels[m] as Int32Array)[r] as number)
        : argmaxRow(members[m] as Float32Array, base, numClasses);
      votes[vote] = (votes[vote] as number) + (weights ? (weights[m] as number) : 1);
    }
    let top = -Infinity;
    for (let c = 0; c < numClasses; c++) if ((votes[c] as number) > top) top = votes[c] as number;
    const floor = top - tieSlack;
    let label = -1;
    let tied = false;
    for (let c = 0; c < numClasses; c++) {
      const v = votes[c] as number;
      scores[base + c] = v / total;
      if (v >= floor) {
        if (label < 0) label = c;
        else tied = true;
      }
    }
    // Summed probabilities are only needed on tied rows, and only for the tied classes.
    if (tied) {
      let bestProb = -Infinity;
      for (let c = 0; c < numClasses; c++) {
        if ((votes[c] as number) < floor) continue;
        let sum = 0;
        for (let m = 0; m < memberCount; m++) {
          sum += (weights ? (weights[m] as number) : 1) * ((members[m] as Float32Array)[base + c] as number);
        }
        if (sum > bestProb) {
          bestProb = sum;
          label = c;
        }
      }
    }
    labels[r] = label;
  }
  return { scores, labels };
}

/**
 * Rows per block in the soft and geometric votes: each member is added to a block's accumulator
 * in one long loop (fast) while the accumulator (BLOCK_ROWS·C doubles) stays in L1/L2 cache.
 */
const BLOCK_ROWS = 256;

/** (Weighted) arithmetic mean of the member probabilities; label = argmax (lowest index on ties). */
function softVote(
  members: readonly Float32Array[],
  rows: number,
  numClasses: number,
  weights: Float64Array | undefined,
): CombinedVote {
  const memberCount = members.length;
  const total = weights ? sumOf(weights) : memberCount;
  const size = rows * numClasses;
  const scores = new Float32Array(size);
  const labels = new Int32Array(rows);
  const acc = new Float64Array(Math.min(size, BLOCK_ROWS * numClasses));
  for (let start = 0; start < size; start += acc.length) {
    const length = Math.min(acc.length, size - start);
    acc.fill(0);
    for (let m = 0; m < memberCount; m++) {
      const p = members[m] as Float32Array;
      const w = weights ? (weights[m] as number) : 1;
      for (let i = 0; i < length; i++) acc[i] = (acc[i] as number) + w * (p[start + i] as number);
    }
    for (let i = 0; i < length; i++) scores[start + i] = (acc[i] as number) / total;
    // Argmax of the float32 scores, so that scoring the returned scores agrees with `labels`.
    for (let base = start; base < start + length; base += numClasses) {
      labels[base / numClasses] = argmaxRow(scores, base, numClasses);
    }
  }
  return { scores, labels };
}

/**
 * Normalised geometric mean: exp(mean_m log max(p_m, 1e-12)), rescaled so each row sums to 1.
 * Logs are taken of running products (one log per PRODUCT_CHUNK members, not one per value).
 */
function geometricVote(members: readonly Float32Array[], rows: number, numClasses: number): CombinedVote {
  const memberCount = members.length;
  const size = rows * numClasses;
  const scores = new Float32Array(size);
  const labels = new Int32Array(rows);
  const blockSize = Math.min(size, BLOCK_ROWS * numClasses);
  const logSum = new Float64Array(blockSize);
  const product = new Float64Array(blockSize);
  for (let start = 0; start < size; start += blockSize) {
    const length = Math.min(blockSize, size - start);
    logSum.fill(0);
    product.fill(1);
    for (let m = 0; m < memberCount; m++) {
      const p = members[m] as Float32Array;
      for (let i = 0; i < length; i++) {
        const v = p[start + i] as number;
        product[i] = (product[i] as number) * (v > PROBABILITY_FLOOR ? v : PROBABILITY_FLOOR);
      }
      if ((m + 1) % PRODUCT_CHUNK === 0 || m === memberCount - 1) {
        for (let i = 0; i < length; i++) logSum[i] = (logSum[i] as number) + Math.log(product[i] as number);
        product.fill(1);
      }
    }
    for (let row = 0; row < length; row += numClasses) {
      // Subtract the row's largest log before exp: only the ratios between classes matter.
      let maxLog = -Infinity;
      for (let c = 0; c < numClasses; c++) {
        if ((logSum[row + c] as number) > maxLog) maxLog = logSum[row + c] as number;
      }
      let norm = 0;
      for (let c = 0; c < numClasses; c++) {
        const g = Math.exp(((logSum[row + c] as number) - maxLog) / memberCount);
        product[row + c] = g;
        norm += g;
      }
      const base = start + row;
      for (let c = 0; c < numClasses; c++) scores[base + c] = (product[row + c] as number) / norm;
      labels[base / numClasses] = argmaxRow(scores, base, numClasses);
    }
  }
  return { scores, labels };
}

/**
 * Weights proportional to each member's accuracy on the VALIDATION split, summing to 1.
 * (Weights fitted on the test split would leak the test labels into the ensemble.)
 * All-zero accuracies give uniform weights.
 */
export function accuracyWeights(validationAccuracies: readonly number[]): number[] {
  if (!Array.isArray(validationAccuracies) || validationAccuracies.length === 0) {
    throw new EnsembleInputError('accuracyWeights needs at least one validation accuracy');
  }
  let total = 0;
  validationAccuracies.forEach((a, i) => {
    if (typeof a !== 'number' || !Number.isFinite(a) || a < 0 || a > 1) {
      throw new EnsembleInputError(`validation accuracy ${i} must be a number in [0, 1], got ${a}`);
    }
    total += a;
  });
  const count = validationAccuracies.length;
  if (total === 0) return validationAccuracies.map(() => 1 / count);
  return validationAccuracies.map((a) => a / total);
}
