import { EnsembleInputError } from './errors';

/** The five pairwise measures of Kuncheva & Whitaker (2003), one M×M matrix (or mean) each. */
export interface PairwiseMeasures<T> {
  /** (N01 + N10) / N: fraction of samples where exactly one of the two is correct. */
  disagreement: T;
  /** Yule's Q: (N11·N00 − N01·N10) / (N11·N00 + N01·N10). */
  qStatistic: T;
  /** Correlation ρ of the two correctness oracles. */
  correlation: T;
  /** N00 / N: fraction of samples both get wrong. */
  doubleFault: T;
  /** Cohen's κ between the two members' predicted labels. */
  kappa: T;
}

export interface DiversityReport {
  /** M×M matrices (plain arrays so they serialise to JSON); symmetric. */
  pairwise: PairwiseMeasures<number[][]>;
  /** Average of each measure over the pairs i < k. */
  mean: PairwiseMeasures<number>;
  /** Entropy E ∈ [0, 1]: 1 = correct/incorrect votes as split as possible on every sample. */
  entropy: number;
  /** Kohavi–Wolpert variance ∈ [0, 1/4]. */
  kwVariance: number;
  /** Interrater agreement κ (Fleiss-style, on correctness); lower = more diverse. */
  interraterKappa: number;
}

/** Labels are class indices; this bound keeps the per-class count table small. */
const MAX_LABEL = 1 << 20;

/**
 * Diversity of an ensemble from each member's predicted labels (Kuncheva & Whitaker 2003).
 * Every measure except κ works on the correct/incorrect oracle y_{m,j} = 1[label_{m,j} = truth_j].
 *
 * Degenerate cases (no NaN ever leaves this function):
 * - Q and ρ are 0 when their denominator is 0 (e.g. a member right, or wrong, on every sample:
 *   no evidence of dependence either way);
 * - pairwise κ is 1 when p_e = 1 (both members always predict the same single class, so p_o = 1);
 * - diagonals: disagreement and double fault 0, Q, ρ and κ 1;
 * - one member (no pairs): the means take the diagonal values, entropy 0, interrater κ 1;
 * - interrater κ when p̄ ∈ {0, 1}: every member is right (or wrong) on every sample, so the
 *   members agree perfectly: κ = 1 (the formula is 0/0 there).
 */
export function diversity(memberLabels: readonly Int32Array[], truth: Int32Array): DiversityReport {
  const memberCount = memberLabels.length;
  const classCount = validateLabels(memberLabels, truth);
  const n = truth.length;

  // Correctness oracles (M×N, 0/1), each member's number of correct samples, and class histograms.
  const correct = new Uint8Array(memberCount * n);
  const correctCount = new Float64Array(memberCount);
  const classHist = new Float64Array(memberCount * classCount);
  const votesCorrect = new Int32Array(n); // l_j: members correct on sample j
  for (let m = 0; m < memberCount; m++) {
    const labels = memberLabels[m] as Int32Array;
    const row = m * n;
    const histBase = m * classCount;
    let count = 0;
    for (let j = 0; j < n; j++) {
      const label = labels[j] as number;
      const hit = label === truth[j] ? 1 : 0;
      correct[row + j] = hit;
      count += hit;
      votesCorrect[j] = (votesCorrect[j] as number) + hit;
      classHist[histBase + label] = (classHist[histBase + label] as number) + 1;
    }
    correctCount[m] = count;
  }

  const pairwise = emptyPairwise(memberCount);
  const sums = { disagreement: 0, qStatistic: 0, correlation: 0, doubleFault: 0, kappa: 0 };
  for (let i = 0; i < memberCount; i++) {
    const li = memberLabels[i] as Int32Array;
    const rowI = i * n;
    for (let k = i + 1; k < memberCount; k++) {
      const lk = memberLabels[k] as Int32Array;
      const rowK = k * n;
      let n11 = 0;
      let agree = 0;
      for (let j = 0; j < n; j++) {
        n11 += (correct[rowI + j] as number) & (correct[rowK + j] as number);
        if (li[j] === lk[j]) agree++;
      }
      const ci = correctCount[i] as number;
      const ck = correctCount[k] as number;
      const n10 = ci - n11; // i right, k wrong
      const n01 = ck - n11; // i wrong, k right
      const n00 = n - ci - ck + n11;
      const values = pairMeasures(
        n11,
        n10,
        n01,
        n00,
        n,
        agree,
        expectedAgreement(classHist, i, k, classCount),
      );
      for (const key of MEASURES) {
        (pairwise[key][i] as number[])[k] = values[key];
        (pairwise[key][k] as number[])[i] = values[key];
        sums[key] += values[key];
      }
    }
  }
  const pairs = (memberCount * (memberCount - 1)) / 2;
  const mean =
    pairs === 0
      ? { disagreement: 0, qStatistic: 1, correlation: 1, doubleFault: 0, kappa: 1 }
      : {
          disagreement: sums.disagreement / pairs,
          qStatistic: sums.qStatistic / pairs,
          correlation: sums.correlation / pairs,
          doubleFault: sums.doubleFault / pairs,
          kappa: sums.kappa / pairs,
        };

  return { pairwise, mean, ...nonPairwise(votesCorrect, memberCount) };
}

const MEASURES = ['disagreement', 'qStatistic', 'correlation', 'doubleFault', 'kappa'] as const;

function validateLabels(memberLabels: readonly Int32Array[], truth: Int32Array): number {
  if (!(truth instanceof Int32Array)) throw new EnsembleInputError('truth: expected an Int32Array');
  if (truth.length === 0) throw new EnsembleInputError('diversity needs at least one sample');
  if (!Array.isArray(memberLabels) || memberLabels.length === 0) {
    throw new EnsembleInputError('diversity needs at least one member');
  }
  let maxLabel = 0;
  const check = (labels: Int32Array, what: string): void => {
    for (let j = 0; j < labels.length; j++) {
      const label = labels[j] as number;
      if (label < 0 || label >= MAX_LABEL) {
        throw new EnsembleInputError(`${what}: sample ${j} has label ${label}, expected a class index ≥ 0`);
      }
      if (label > maxLabel) maxLabel = label;
    }
  };
  check(truth, 'truth');
  memberLabels.forEach((labels, m) => {
    if (!(labels instanceof Int32Array)) throw new EnsembleInputError(`member ${m}: expected an Int32Array`);
    if (labels.length !== truth.length) {
      throw new EnsembleInputError(`member ${m}: ${labels.length} labels for ${truth.length} samples`);
    }
    check(labels, `member ${m}`);
  });
  return maxLabel + 1;
}

function emptyPairwise(memberCount: number): PairwiseMeasures<number[][]> {
  const matrix = (diagonal: number): number[][] =>
    Array.from({ length: memberCount }, (_, i) => {
      const row = new Array<number>(memberCount).fill(0);
      row[i] = diagonal;
      return row;
    });
  return {
    disagreement: matrix(0),
    qStatistic: matrix(1),
    correlation: matrix(1),
    doubleFault: matrix(0),
    kappa: matrix(1),
  };
}

/** N² · p_e = Σ_c n_ic · n_kc (exact integer arithmetic). */
function expectedAgreement(classHist: Float64Array, i: number, k: number, classCount: number): number {
  let sum = 0;
  const bi = i * classCount;
  const bk = k * classCount;
  for (let c = 0; c < classCount; c++) sum += (classHist[bi + c] as number) * (classHist[bk + c] as number);
  return sum;
}

/** The pairwise measures from the 2×2 correctness table; `chanceAgree` = N² · p_e. */
export function pairMeasures(
  n11: number,
  n10: number,
  n01: number,
  n00: number,
  n: number,
  agree: number,
  chanceAgree: number,
): PairwiseMeasures<number> {
  const ad = n11 * n00;
  const bc = n01 * n10;
  // Two square roots instead of one of the product: the product of four counts can pass 2^53.
  const rhoDenominator = Math.sqrt((n11 + n10) * (n01 + n00)) * Math.sqrt((n11 + n01) * (n10 + n00));
  // κ = (p_o − p_e) / (1 − p_e) = (N·agree − N²p_e) / (N² − N²p_e)
  const kappaDenominator = n * n - chanceAgree;
  return {
    disagreement: (n01 + n10) / n,
    qStatistic: ad + bc === 0 ? 0 : (ad - bc) / (ad + bc),
    correlation: rhoDenominator === 0 ? 0 : (ad - bc) / rhoDenominator,
    doubleFault: n00 / n,
    kappa: kappaDenominator === 0 ? 1 : (n * agree - chanceAgree) / kappaDenominator,
  };
}

/** Entropy E, Kohavi–Wolpert variance and interrater κ from l_j (members correct on sample j). */
function nonPairwise(
  votesCorrect: Int32Array,
  memberCount: number,
): { entropy: number; kwVariance: number; interraterKappa: number } {
  const n = votesCorrect.length;
  const l = memberCount;
  let minSum = 0; // Σ_j min(l_j, L − l_j)
  let spread = 0; // Σ_j l_j (L − l_j)
  let totalCorrect = 0; // Σ_j l_j = N·L·p̄
  for (let j = 0; j < n; j++) {
    const lj = votesCorrect[j] as number;
    minSum += lj < l - lj ? lj : l - lj;
    spread += lj * (l - lj);
    totalCorrect += lj;
  }
  const entropyScale = l - Math.ceil(l / 2); // = ⌊L/2⌋, 0 only when L = 1
  const entropy = entropyScale === 0 ? 0 : minSum / (n * entropyScale);
  const kwVariance = spread / (n * l * l);
  // κ = 1 − [(1/L) Σ l_j(L − l_j)] / [N (L−1) p̄ (1−p̄)], with p̄ = S/(NL):
  //   = 1 − spread · N · L / ((L − 1) · S · (NL − S))   — integers, so "denominator = 0" is exact.
  const denominator = (l - 1) * totalCorrect * (n * l - totalCorrect);
  const interraterKappa = denominator === 0 ? 1 : 1 - (spread * n * l) / denominator;
  return { entropy, kwVariance, interraterKappa };
}
