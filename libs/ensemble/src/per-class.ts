import { CLASS_DETAIL_MAX_CLASSES, type ClassResult, type StrategyName } from '@chorus/protocol';
import { EnsembleInputError } from './errors';
import type { EnsembleEvaluation } from './evaluate';
import { assertTruth } from './validate';

/**
 * How an evaluated ensemble does on each class of the test split, from the labels its evaluation
 * gave every test row: the soft vote's accuracy per class and, for datasets of at most
 * CLASS_DETAIL_MAX_CLASSES classes, every strategy's and every member's accuracy per class and
 * every strategy's confusion matrix (rows: true class, columns: predicted). A class without test
 * rows gets accuracy 0 and count 0 (no NaN). Class names are the dataset's when it has them, else
 * "0", "1", ….
 */
export function perClassResult<S extends StrategyName>(
  evaluation: Pick<EnsembleEvaluation<S>, 'testLabels'>,
  truth: Int32Array,
  numClasses: number,
  names?: readonly string[],
): ClassResult {
  if (names !== undefined && names.length !== numClasses) {
    throw new EnsembleInputError(`${names.length} class names for ${numClasses} classes`);
  }
  assertTruth(truth, numClasses, 'test truth');
  const strategies = evaluation.testLabels.strategies as Partial<Record<StrategyName, Int32Array>>;
  const soft = strategies.soft;
  if (soft === undefined) throw new EnsembleInputError('the evaluation has no soft vote');
  const count = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < truth.length; i++)
    count[truth[i] as number] = (count[truth[i] as number] as number) + 1;

  const accuracyOf = (labels: Int32Array, what: string): number[] => {
    if (labels.length !== truth.length) {
      throw new EnsembleInputError(`${what}: ${labels.length} predictions for ${truth.length} true labels`);
    }
    const right = new Array<number>(numClasses).fill(0);
    for (let i = 0; i < truth.length; i++) {
      const t = truth[i] as number;
      if (labels[i] === t) right[t] = (right[t] as number) + 1;
    }
    return right.map((r, c) => ((count[c] as number) > 0 ? r / (count[c] as number) : 0));
  };
  const confusionOf = (labels: Int32Array): number[][] => {
    const matrix = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
    for (let i = 0; i < truth.length; i++) {
      const row = matrix[truth[i] as number] as number[];
      row[labels[i] as number] = (row[labels[i] as number] as number) + 1;
    }
    return matrix;
  };

  const base: ClassResult = {
    names: names !== undefined ? [...names] : Array.from({ length: numClasses }, (_, c) => String(c)),
    testCount: count,
    softVoteAccuracy: accuracyOf(soft, 'soft'),
  };
  if (numClasses > CLASS_DETAIL_MAX_CLASSES) return base;
  const entries = Object.entries(strategies) as Array<[StrategyName, Int32Array]>;
  return {
    ...base,
    strategyAccuracy: Object.fromEntries(entries.map(([s, labels]) => [s, accuracyOf(labels, s)])),
    memberAccuracy: evaluation.testLabels.members.map((labels, m) => accuracyOf(labels, `member ${m}`)),
    confusion: Object.fromEntries(entries.map(([s, labels]) => [s, confusionOf(labels)])),
  };
}
