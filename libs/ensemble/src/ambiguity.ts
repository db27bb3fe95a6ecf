import { diversity, type DiversityReport } from './diversity';
import { argmaxLabels } from './labels';

/**
 * Ambiguity (Krogh & Vedelsby 1995): how far the members' probability vectors lie from the soft
 * vote's, as the mean over samples and members of the squared Euclidean distance
 *   A = (1/N) Σ_j (1/M) Σ_m Σ_c (p_mjc − p̄_jc)²,   p̄ = the members' mean.
 * It is exactly the Brier score the soft vote gains over the mean member:
 *   Brier(soft) = mean_m Brier(p_m) − A.
 * `members` are validated N×C row-major probabilities (validateMembers has checked them).
 */
export function ambiguity(members: readonly Float32Array[], rows: number, numClasses: number): number {
  const m = members.length;
  if (m === 0 || rows === 0) return 0;
  const mean = new Float64Array(numClasses);
  let total = 0;
  for (let j = 0; j < rows; j++) {
    const base = j * numClasses;
    mean.fill(0);
    for (const p of members) for (let c = 0; c < numClasses; c++) mean[c]! += p[base + c]! / m;
    for (const p of members) {
      for (let c = 0; c < numClasses; c++) {
        const d = p[base + c]! - mean[c]!;
        total += d * d;
      }
    }
  }
  return total / (rows * m);
}

/** The diversity of one split: the label-based measures of `diversity()` plus the ambiguity. */
export type EnsembleDiversity = DiversityReport & { ambiguity: number };

export function splitDiversity(
  members: readonly Float32Array[],
  truth: Int32Array,
  numClasses: number,
  labels: readonly Int32Array[] = members.map((p) => argmaxLabels(p, numClasses)),
): EnsembleDiversity {
  return { ...diversity(labels, truth), ambiguity: ambiguity(members, truth.length, numClasses) };
}
