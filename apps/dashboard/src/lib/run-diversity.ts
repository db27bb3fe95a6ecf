import type { PairwiseMatrices, StoredDiversitySummary } from '@chorus/protocol';

/**
 * The DiversityEval JSON of a round (libs/ensemble `diversity()` as the coordinator stores it):
 * `pairwise` = M×M matrices by measure, `summary` = the pairwise means plus the non-pairwise
 * measures. Their shapes are libs/protocol's (stored.ts); libs/db parses them when it reads a row.
 */
export type { PairwiseMatrices };
export type DiversitySummary = StoredDiversitySummary;

/** How the summary measures read (for the table under the heatmaps). */
export const SUMMARY_MEASURES: ReadonlyArray<{
  key: Exclude<keyof DiversitySummary, 'memberIndices' | 'memberAccuracies'>;
  label: string;
  hint: string;
  /** Whether a higher value means more diverse members. */
  higherIsMoreDiverse: boolean;
}> = [
  {
    key: 'disagreement',
    label: 'Disagreement (mean)',
    hint: 'higher = more diverse',
    higherIsMoreDiverse: true,
  },
  {
    key: 'qStatistic',
    label: 'Q statistic (mean)',
    hint: 'lower = more diverse',
    higherIsMoreDiverse: false,
  },
  {
    key: 'correlation',
    label: 'Correlation ρ (mean)',
    hint: 'lower = more diverse',
    higherIsMoreDiverse: false,
  },
  {
    key: 'doubleFault',
    label: 'Double fault (mean)',
    hint: 'lower = fewer shared mistakes',
    higherIsMoreDiverse: false,
  },
  { key: 'kappa', label: "Cohen's κ (mean)", hint: 'lower = more diverse', higherIsMoreDiverse: false },
  { key: 'entropy', label: 'Entropy E', hint: 'higher = more diverse', higherIsMoreDiverse: true },
  {
    key: 'kwVariance',
    label: 'Kohavi–Wolpert variance',
    hint: 'higher = more diverse',
    higherIsMoreDiverse: true,
  },
  { key: 'interraterKappa', label: 'Interrater κ', hint: 'lower = more diverse', higherIsMoreDiverse: false },
  {
    key: 'ambiguity',
    label: 'Ambiguity (to the soft vote)',
    hint: 'higher = more diverse',
    higherIsMoreDiverse: true,
  },
];

/** Each member's mean of a symmetric pairwise measure over the other members (null with one member). */
export function memberMeans(m: readonly (readonly number[])[]): Array<number | null> {
  const size = m.length;
  return m.map((row, i) => {
    if (size < 2) return null;
    let sum = 0;
    for (let k = 0; k < size; k++) if (k !== i) sum += row[k] ?? 0;
    return sum / (size - 1);
  });
}

/**
 * Each member's accuracy, recovered exactly from the pairwise disagreement d and double fault f
 * (both fractions of the N samples): for members i, k the counts give
 *   acc_i + acc_k = 2·N11/N + (N10 + N01)/N = 2(1 − d − f) + d = 2 − d − 2f =: s_ik.
 * Summing over pairs: Σ_{i<k} s_ik = (M − 1)·S with S = Σ acc, and Σ_{k≠i} s_ik = (M − 2)·acc_i + S,
 * so acc_i = (Σ_{k≠i} s_ik − S) / (M − 2). Needs M ≥ 3: with two members every pairwise measure
 * is symmetric, so it cannot tell which member is the better one (null then).
 */
export function memberAccuraciesFromPairwise(
  p: Pick<PairwiseMatrices, 'disagreement' | 'doubleFault'>,
): number[] | null {
  const size = p.disagreement.length;
  if (size < 3 || p.doubleFault.length !== size) return null;
  const s = (i: number, k: number) => 2 - (p.disagreement[i]?.[k] ?? 0) - 2 * (p.doubleFault[i]?.[k] ?? 0);
  let pairSum = 0;
  for (let i = 0; i < size; i++) for (let k = i + 1; k < size; k++) pairSum += s(i, k);
  const total = pairSum / (size - 1);
  return Array.from({ length: size }, (_, i) => {
    let own = 0;
    for (let k = 0; k < size; k++) if (k !== i) own += s(i, k);
    // Float noise of the stored fractions: keep the result a probability.
    return Math.min(1, Math.max(0, (own - total) / (size - 2)));
  });
}
