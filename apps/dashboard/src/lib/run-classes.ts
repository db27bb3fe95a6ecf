import { STRATEGY_NAMES, type RunResult, type StrategyName } from '@chorus/protocol';

/**
 * The run page's per-class views, from a completed run's stored result (`classes`, computed by the
 * coordinator with libs/ensemble's `perClassResult`): the accuracy of every strategy and member on
 * each class, and the confusion matrix of each strategy. Pure, unit-tested.
 */
export interface ClassColumn {
  kind: 'strategy' | 'member';
  /** The strategy name, or the member index as a string. */
  key: string;
  label: string;
  /** Accuracy on each class, in class order. */
  values: number[];
}

export interface ClassViews {
  names: string[];
  testCount: number[];
  /** The strategies (display order), then the members. */
  columns: ClassColumn[];
  /**
   * False when the result holds the soft vote's per-class accuracy only (results stored before the
   * detail existed, or datasets of more classes than libs/protocol's CLASS_DETAIL_MAX_CLASSES).
   */
  detailed: boolean;
  /** Strategies with a stored confusion matrix, in display order. */
  confusionStrategies: StrategyName[];
  /** `confusion[strategy][true][predicted]`: test rows. */
  confusion: Partial<Record<StrategyName, number[][]>>;
  /** The default matrix: the strategy with the best test accuracy (the first in display order on a tie). */
  best: StrategyName | null;
}

export function classViewsOf(result: RunResult | null | undefined): ClassViews | null {
  const classes = result?.classes;
  if (!result || !classes) return null;
  const stored = classes.strategyAccuracy;
  const detailed = stored !== undefined;
  const strategyColumns: ClassColumn[] = detailed
    ? STRATEGY_NAMES.flatMap((s) => {
        const values = stored[s];
        return values ? [{ kind: 'strategy' as const, key: s, label: s, values }] : [];
      })
    : [{ kind: 'strategy', key: 'soft', label: 'soft', values: classes.softVoteAccuracy }];
  const memberColumns: ClassColumn[] = (classes.memberAccuracy ?? []).map((values, m) => {
    const index = result.members[m]?.index ?? m;
    return { kind: 'member', key: String(index), label: `Member ${index}`, values };
  });
  const confusion = classes.confusion ?? {};
  const confusionStrategies = STRATEGY_NAMES.filter((s) => confusion[s] !== undefined);
  let best: StrategyName | null = null;
  for (const s of confusionStrategies) {
    const accuracy = result.ensemble[s]?.accuracy;
    if (accuracy === undefined) continue;
    if (best === null || accuracy > (result.ensemble[best]?.accuracy ?? -Infinity)) best = s;
  }
  return {
    names: classes.names,
    testCount: classes.testCount,
    columns: [...strategyColumns, ...memberColumns],
    detailed,
    confusionStrategies,
    confusion,
    best: best ?? confusionStrategies[0] ?? null,
  };
}

/** A confusion cell's share of its true class's test rows (0 for a class without rows): its shade. */
export function rowShare(matrix: readonly (readonly number[])[], t: number, p: number): number {
  const row = matrix[t] ?? [];
  const total = row.reduce((a, b) => a + b, 0);
  return total > 0 ? (row[p] ?? 0) / total : 0;
}
