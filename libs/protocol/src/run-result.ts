import { z } from 'zod';

const finite = z.number().refine(Number.isFinite, 'must be a finite number');

/**
 * The fixed voting strategies (libs/ensemble's `combine`) and the combiners learned on the
 * validation split (libs/ensemble's `fitCombiner`), in display order. The one list of strategy
 * names: RunResult's `ensemble` keys, the what-if query and every table iterate these.
 */
export const VOTING_STRATEGIES = ['hard', 'soft', 'weighted-soft', 'weighted-hard', 'geometric'] as const;
export const LEARNED_COMBINERS = ['stacking', 'optimal-weights', 'selection'] as const;
export const STRATEGY_NAMES = [...VOTING_STRATEGIES, ...LEARNED_COMBINERS] as const;
export type VotingStrategy = (typeof VOTING_STRATEGIES)[number];
export type LearnedCombiner = (typeof LEARNED_COMBINERS)[number];
export type StrategyName = (typeof STRATEGY_NAMES)[number];

export const StrategyResultSchema = z.object({
  accuracy: finite,
  nll: finite,
  brier: finite,
  ece: finite,
  gainOverBest: finite,
  gainOverMean: finite,
});

export const DiversitySummarySchema = z.object({
  disagreement: finite,
  qStatistic: finite,
  correlation: finite,
  doubleFault: finite,
  kappa: finite,
  entropy: finite,
  kwVariance: finite,
  interraterKappa: finite,
  /** Mean squared distance of the members' probabilities from the soft vote's (absent in results stored before it was measured). */
  ambiguity: finite.optional(),
});

export const MemberResultSchema = z.object({
  index: z.number().int().min(0),
  valAccuracy: finite,
  testAccuracy: finite,
  samplesPerSecond: z.number().min(0),
});

function shapeOf<K extends string, T extends z.ZodType>(names: readonly K[], schema: T): Record<K, T> {
  return Object.fromEntries(names.map((name) => [name, schema])) as Record<K, T>;
}

/**
 * The most classes for which a result keeps the per-class accuracy of every strategy and member and
 * the confusion matrices (C² counts per strategy); a dataset with more keeps the soft vote's only.
 */
export const CLASS_DETAIL_MAX_CLASSES = 100;

const perClass = z.array(finite);

/**
 * The classes of a run's dataset and how the ensemble does on each (test split). Accuracies are the
 * share of a class's test rows labelled right (0 for a class without rows). The detail fields are
 * absent in older results and for datasets of more than CLASS_DETAIL_MAX_CLASSES classes.
 */
export const ClassResultSchema = z
  .object({
    names: z.array(z.string()),
    /** Test rows of each class. */
    testCount: z.array(z.number().int().min(0)),
    /** The soft vote's accuracy on each class. */
    softVoteAccuracy: perClass,
    /** Each strategy's accuracy on each class, by strategy name (every strategy of the result's `ensemble`). */
    strategyAccuracy: z.partialRecord(z.enum(STRATEGY_NAMES), perClass).optional(),
    /** Each member's accuracy on each class, in member-index order. */
    memberAccuracy: z.array(perClass).optional(),
    /**
     * Each strategy's confusion matrix: `confusion[strategy][t][p]` test rows of class t that the
     * strategy labels p (each row sums to `testCount[t]`; the diagonal is what it gets right).
     */
    confusion: z.partialRecord(z.enum(STRATEGY_NAMES), z.array(z.array(z.number().int().min(0)))).optional(),
  })
  .superRefine((c, ctx) => {
    const n = c.names.length;
    const check = (ok: boolean, path: (string | number)[], what: string) => {
      if (!ok)
        ctx.addIssue({ code: 'custom', path, message: `${what}: expected ${n} entries, one per class` });
    };
    check(c.testCount.length === n, ['testCount'], 'testCount');
    check(c.softVoteAccuracy.length === n, ['softVoteAccuracy'], 'softVoteAccuracy');
    for (const [s, a] of Object.entries(c.strategyAccuracy ?? {})) {
      check(a.length === n, ['strategyAccuracy', s], `strategyAccuracy.${s}`);
    }
    (c.memberAccuracy ?? []).forEach((a, m) =>
      check(a.length === n, ['memberAccuracy', m], `memberAccuracy[${m}]`),
    );
    for (const [s, matrix] of Object.entries(c.confusion ?? {})) {
      check(matrix.length === n, ['confusion', s], `confusion.${s}`);
      matrix.forEach((row, t) => {
        check(row.length === n, ['confusion', s, t], `confusion.${s}[${t}]`);
        const sum = row.reduce((a, b) => a + b, 0);
        if (sum !== c.testCount[t]) {
          ctx.addIssue({
            code: 'custom',
            path: ['confusion', s, t],
            message: `confusion.${s}[${t}] sums to ${sum}, but class ${t} has ${c.testCount[t]} test rows`,
          });
        }
      });
    }
  });
export type ClassResult = z.infer<typeof ClassResultSchema>;

/**
 * The final result of a run: printed as the last line of `chorus train --json`, returned by
 * `GET /api/runs/:id` once the run has finished, and by `chorus run --wait --json` (plus runId).
 */
export const RunResultSchema = z.object({
  members: z.array(MemberResultSchema).min(1),
  weights: z.array(finite),
  /** One entry per strategy; the learned combiners are absent in results stored before they existed. */
  ensemble: z.object({
    ...shapeOf(VOTING_STRATEGIES, StrategyResultSchema),
    ...shapeOf(LEARNED_COMBINERS, StrategyResultSchema.optional()),
  }),
  diversity: DiversitySummarySchema,
  /** The dataset's class names and the ensemble's figures on each class (absent in older results). */
  classes: ClassResultSchema.optional(),
});

export type RunResult = z.infer<typeof RunResultSchema>;
export type StrategyResult = z.infer<typeof StrategyResultSchema>;
export type DiversitySummary = z.infer<typeof DiversitySummarySchema>;
