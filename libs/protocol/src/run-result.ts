import { z } from 'zod';

const finite = z.number().refine(Number.isFinite, 'must be a finite number');

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

/**
 * The final result of a run: printed as the last line of `chorus train --json`, returned by
 * `GET /api/runs/:id` once the run has finished, and by `chorus run --wait --json` (plus runId).
 */
export const RunResultSchema = z.object({
  members: z.array(MemberResultSchema).min(1),
  weights: z.array(finite),
  ensemble: z.object({
    hard: StrategyResultSchema,
    soft: StrategyResultSchema,
    'weighted-soft': StrategyResultSchema,
    'weighted-hard': StrategyResultSchema,
    geometric: StrategyResultSchema,
  }),
  diversity: DiversitySummarySchema,
});

export type RunResult = z.infer<typeof RunResultSchema>;
export type StrategyResult = z.infer<typeof StrategyResultSchema>;
export type DiversitySummary = z.infer<typeof DiversitySummarySchema>;
