import { EnsembleInputError } from './errors';

/** Index of the largest value in `values[base .. base + numClasses)`; the lowest index wins exact ties. */
export function argmaxRow(values: ArrayLike<number>, base: number, numClasses: number): number {
  let best = 0;
  let bestValue = values[base] as number;
  for (let c = 1; c < numClasses; c++) {
    const v = values[base + c] as number;
    if (v > bestValue) {
      bestValue = v;
      best = c;
    }
  }
  return best;
}

/** Row-wise argmax of an N×C row-major probability array (lowest index on exact ties). */
export function argmaxLabels(probs: Float32Array, numClasses: number): Int32Array {
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new EnsembleInputError(`numClasses must be a positive integer, got ${numClasses}`);
  }
  if (probs.length % numClasses !== 0) {
    throw new EnsembleInputError(
      `probabilities have length ${probs.length}, which is not a multiple of numClasses = ${numClasses}`,
    );
  }
  const rows = probs.length / numClasses;
  const labels = new Int32Array(rows);
  for (let r = 0; r < rows; r++) labels[r] = argmaxRow(probs, r * numClasses, numClasses);
  return labels;
}

/** Fraction of `predicted` equal to `truth` (same length, at least one row: checked by callers). */
export function accuracyOf(predicted: Int32Array, truth: Int32Array): number {
  let correct = 0;
  for (let i = 0; i < truth.length; i++) if (predicted[i] === truth[i]) correct++;
  return correct / truth.length;
}
