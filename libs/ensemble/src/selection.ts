import type { SelectionParams } from '@chorus/protocol';
import { mixProbabilities, rowNll, trueClassProbabilities } from './true-class';

/** Greedy rounds by default: the weights are multiples of 1/picks, and each round costs M·N logs. */
export const SELECTION_ROUNDS = 20;

export interface SelectionOptions {
  /** Greedy rounds (default SELECTION_ROUNDS). */
  rounds?: number;
}

/**
 * Ensemble selection with replacement (Caruana, Niculescu-Mizil, Crew & Ksikes, ICML 2004): start
 * from nothing, and in each round add the member (again, possibly) whose addition gives the mean
 * of the picked members' probabilities the lowest validation NLL; ties go to the lower index.
 * After `rounds` rounds, keep the shortest prefix of the picks with the lowest NLL.
 */
export function fitSelection(
  members: readonly Float32Array[],
  truth: Int32Array,
  numClasses: number,
  options: SelectionOptions = {},
): SelectionParams {
  const M = members.length;
  const rows = truth.length;
  const rounds = options.rounds ?? SELECTION_ROUNDS;
  const q = trueClassProbabilities(members, truth, numClasses);
  const sum = new Float64Array(rows);
  const picks: number[] = [];
  let bestTotal = Infinity;
  let bestLength = 0;
  for (let round = 0; round < rounds; round++) {
    const share = 1 / (round + 1);
    let pick = 0;
    let pickTotal = Infinity;
    for (let m = 0; m < M; m++) {
      // Every row adds a non-negative NLL: stop summing once this member cannot win any more.
      let total = 0;
      for (let n = 0; n < rows && total <= pickTotal; n++) {
        total += rowNll(((sum[n] as number) + (q[n * M + m] as number)) * share);
      }
      if (total < pickTotal) {
        pick = m;
        pickTotal = total;
      }
    }
    picks.push(pick);
    for (let n = 0; n < rows; n++) sum[n] = (sum[n] as number) + (q[n * M + pick] as number);
    if (pickTotal < bestTotal) {
      bestTotal = pickTotal;
      bestLength = picks.length;
    }
  }
  const kept = picks.slice(0, bestLength);
  const counts = new Array<number>(M).fill(0);
  for (const m of kept) counts[m] = (counts[m] as number) + 1;
  const weights = counts.map((count) => count / kept.length);
  return { combiner: 'selection', numClasses, picks: kept, weights };
}

export function applySelection(params: SelectionParams, members: readonly Float32Array[]): Float32Array {
  return mixProbabilities(members, params.weights);
}
