import type { ClassResult } from '@chorus/protocol';
import { EnsembleInputError } from './errors';
import { combine } from './voting';

/**
 * The soft vote's accuracy on each class of the test split (the share of that class's rows it
 * labels right; NaN-free: a class without test rows gets accuracy 0 and count 0), with the class
 * names when the dataset has them (else "0", "1", …).
 */
export function perClassResult(
  members: readonly Float32Array[],
  truth: Int32Array,
  numClasses: number,
  names?: readonly string[],
): ClassResult {
  if (names !== undefined && names.length !== numClasses) {
    throw new EnsembleInputError(`${names.length} class names for ${numClasses} classes`);
  }
  const { labels } = combine('soft', members, numClasses);
  if (labels.length !== truth.length) {
    throw new EnsembleInputError(`${labels.length} predictions for ${truth.length} true labels`);
  }
  const count = new Array<number>(numClasses).fill(0);
  const right = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i] as number;
    count[t] = (count[t] as number) + 1;
    if (labels[i] === t) right[t] = (right[t] as number) + 1;
  }
  return {
    names: names !== undefined ? [...names] : Array.from({ length: numClasses }, (_, c) => String(c)),
    testCount: count,
    softVoteAccuracy: right.map((r, c) => ((count[c] as number) > 0 ? r / (count[c] as number) : 0)),
  };
}
