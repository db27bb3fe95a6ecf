import { DatasetError } from './errors';

/**
 * The classes of a dataset of one's own files: its distinct training labels in sorted order (as
 * numbers when every label is an integer, else by UTF-16 code units), class i named by the i-th.
 * Sorted rather than first-appearance order, so the classes do not depend on how rows are ordered.
 */
export interface ClassLabels {
  names: string[];
  /** Label key → class index. */
  index: Map<string, number>;
}

/** Sorts `keys` into classes; `where` names the labels in errors (file and column). */
export function classLabelsOf(keys: readonly string[], where: string): ClassLabels {
  if (keys.length < 2) {
    throw new DatasetError(
      'invalid',
      `${where}: only one class (${keys.map((k) => `"${k}"`).join('')}): a classifier needs at least 2`,
    );
  }
  const numeric = keys.every((k) => /^-?\d+$/.test(k));
  const names = [...keys].sort(numeric ? (a, b) => Number(a) - Number(b) : (a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { names, index: new Map(names.map((n, i) => [n, i])) };
}

/** Rewrites label ids (indices into `keys`) as class indices, in place. */
export function relabel(labels: Int32Array, keys: readonly string[], classes: ClassLabels): void {
  const map = Int32Array.from(keys, (k) => classes.index.get(k) as number);
  for (let i = 0; i < labels.length; i++) labels[i] = map[labels[i] as number] as number;
}
