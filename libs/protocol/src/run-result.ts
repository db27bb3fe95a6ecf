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

/** The classes of a run's dataset and how the soft vote does on each (test split). */
export const ClassResultSchema = z.object({
  names: z.array(z.string()),
  /** Test rows of each class. */
  testCount: z.array(z.number().int().min(0)),
  /** The share of each class's test rows the soft vote labels right (0 for a class without rows). */
  softVoteAccuracy: z.array(finite),
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
  /** The dataset's class names and the soft vote's accuracy on each (absent in older results). */
  classes: ClassResultSchema.optional(),
});

export type RunResult = z.infer<typeof RunResultSchema>;
export type StrategyResult = z.infer<typeof StrategyResultSchema>;
export type DiversitySummary = z.infer<typeof DiversitySummarySchema>;
