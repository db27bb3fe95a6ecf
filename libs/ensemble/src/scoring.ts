import { EnsembleInputError } from './errors';
import { argmaxRow } from './labels';
import { assertNumClasses, assertTruth, checkProbabilities, ROW_SUM_TOLERANCE } from './validate';
import { PROBABILITY_FLOOR } from './voting';

export interface ProbabilityScores {
  /** Fraction of rows whose predicted label is the true one. */
  accuracy: number;
  /** −mean log max(p_true, 1e-12). */
  nll: number;
  /** mean over rows of Σ_k (p_k − 1[k = y])². */
  brier: number;
  /** Expected calibration error over equal-width confidence bins on (0, 1]. */
  ece: number;
}

export const DEFAULT_ECE_BINS = 15;

/**
 * Accuracy, NLL, Brier score and ECE of N×C probabilities against `truth`.
 * The prediction is the row's argmax (lowest index on ties) unless `predicted` is given — pass the
 * hard vote's labels, whose ties are broken by summed probability rather than by vote share.
 * ECE: confidence = the row's max probability, bin b covers (b/bins, (b+1)/bins];
 * ECE = Σ_b |B_b|/N · |acc_b − conf_b|.
 */
export function scoreProbabilities(
  probs: Float32Array,
  truth: Int32Array,
  numClasses: number,
  bins = DEFAULT_ECE_BINS,
  predicted?: Int32Array,
): ProbabilityScores {
  assertNumClasses(numClasses);
  assertTruth(truth, numClasses);
  if (truth.length === 0) throw new EnsembleInputError('cannot score zero samples');
  checkProbabilities(probs, truth.length, numClasses, ROW_SUM_TOLERANCE, 'probabilities');
  assertBins(bins);
  if (predicted !== undefined) assertTruth(predicted, numClasses, 'predicted labels');
  if (predicted !== undefined && predicted.length !== truth.length) {
    throw new EnsembleInputError(`got ${predicted.length} predicted labels for ${truth.length} samples`);
  }
  return scoreValidated(probs, truth, numClasses, bins, predicted);
}

export function assertBins(bins: number): void {
  if (!Number.isInteger(bins) || bins < 1) {
    throw new EnsembleInputError(`ECE bins must be a positive integer, got ${bins}`);
  }
}

/** scoreProbabilities() without the checks. */
export function scoreValidated(
  probs: Float32Array,
  truth: Int32Array,
  numClasses: number,
  bins: number,
  predicted: Int32Array | undefined,
): ProbabilityScores {
  const rows = truth.length;
  const binCount = new Float64Array(bins);
  const binCorrect = new Float64Array(bins);
  const binConfidence = new Float64Array(bins);
  let correct = 0;
  let nll = 0;
  let brier = 0;
  for (let r = 0; r < rows; r++) {
    const base = r * numClasses;
    const y = truth[r] as number;
    let confidence = -Infinity;
    let squares = 0;
    for (let c = 0; c < numClasses; c++) {
      const p = probs[base + c] as number;
      if (p > confidence) confidence = p;
      const d = c === y ? p - 1 : p;
      squares += d * d;
    }
    brier += squares;
    const pTrue = probs[base + y] as number;
    nll -= Math.log(pTrue > PROBABILITY_FLOOR ? pTrue : PROBABILITY_FLOOR);
    const label = predicted ? (predicted[r] as number) : argmaxRow(probs, base, numClasses);
    const hit = label === y ? 1 : 0;
    correct += hit;
    // Bin b holds confidences in (b/bins, (b+1)/bins]; clamp for 0 and for float sums a hair over 1.
    let b = Math.ceil(confidence * bins) - 1;
    if (b < 0) b = 0;
    else if (b >= bins) b = bins - 1;
    binCount[b] = (binCount[b] as number) + 1;
    binCorrect[b] = (binCorrect[b] as number) + hit;
    binConfidence[b] = (binConfidence[b] as number) + confidence;
  }
  // Σ_b |B_b|/N · |acc_b − conf_b| = (1/N) Σ_b |correct_b − Σconf_b|
  let ece = 0;
  for (let b = 0; b < bins; b++) ece += Math.abs((binCorrect[b] as number) - (binConfidence[b] as number));
  return { accuracy: correct / rows, nll: nll / rows, brier: brier / rows, ece: ece / rows };
}
