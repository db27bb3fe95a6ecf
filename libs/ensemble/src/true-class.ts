import { PROBABILITY_FLOOR } from './voting';

/**
 * Each member's probability of the true class, row-major N×M (row n, member m). A mixture
 * Σ_m w_m p_m has NLL −mean_n log(Σ_m w_m q[n, m]), so the weights and the selection only need these.
 */
export function trueClassProbabilities(
  members: readonly Float32Array[],
  truth: Int32Array,
  numClasses: number,
): Float64Array {
  const M = members.length;
  const q = new Float64Array(truth.length * M);
  members.forEach((probs, m) => {
    for (let n = 0; n < truth.length; n++)
      q[n * M + m] = probs[n * numClasses + (truth[n] as number)] as number;
  });
  return q;
}

/** −log max(p, 1e-12), the NLL of one row (the clamp of scoreProbabilities). */
export function rowNll(p: number): number {
  return -Math.log(p > PROBABILITY_FLOOR ? p : PROBABILITY_FLOOR);
}

/** Σ_m w_m p_m row by row: the weighted soft vote with weights already summing to 1. */
export function mixProbabilities(members: readonly Float32Array[], weights: readonly number[]): Float32Array {
  const length = (members[0] as Float32Array).length;
  const acc = new Float64Array(length);
  members.forEach((probs, m) => {
    const w = weights[m] as number;
    if (w === 0) return;
    for (let i = 0; i < length; i++) acc[i] = (acc[i] as number) + w * (probs[i] as number);
  });
  return Float32Array.from(acc);
}
