import { z } from 'zod';
import { DATASET_NAMES, RunConfigSchema } from '../run-config';
import { RunResultSchema, StrategyResultSchema } from '../run-result';
import { SPLITS } from '../sockets';
import { MEMBER_STATUSES, RUN_STATUSES, WORKER_STATUSES } from '../statuses';
import { MemberOverridesSchema, PairwiseMatricesSchema, StoredDiversitySummarySchema } from '../stored';

/**
 * The JSON answers of the coordinator's HTTP API (routes.ts). Dates travel as ISO strings and are
 * Dates on both ends: the server encodes its values with these schemas, the client decodes them.
 */

/** A Date on either end, an ISO 8601 string on the wire. */
export const IsoDateSchema = z.codec(z.iso.datetime(), z.date(), {
  decode: (iso) => new Date(iso),
  encode: (date) => date.toISOString(),
});

/**
 * GET /api/health: sent only while the coordinator's database answers (else 503, `unavailable`,
 * with the reason: a coordinator that cannot store anything is not healthy).
 */
export const HealthSchema = z.object({
  ok: z.literal(true),
  protocolVersion: z.number().int(),
  /** The database answered `SELECT 1` in this many milliseconds. */
  database: z.object({ ok: z.literal(true), latencyMs: z.number().min(0) }),
  /** Workers heartbeat well within this (a third of it, say). */
  leaseMs: z.number().int().positive(),
  time: IsoDateSchema,
});

/** Whether the coordinator can load a dataset at its default place, and how to get it if not. */
export const DatasetListingSchema = z.object({
  name: z.enum(DATASET_NAMES),
  present: z.boolean(),
  /** Where it is (or would be) read from. */
  source: z.string(),
  howToGet: z.string(),
  trainCount: z.number().int().optional(),
  testCount: z.number().int().optional(),
  /** Why it is not usable, when present is false. */
  problem: z.string().optional(),
});

export const WorkerViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  host: z.string(),
  backend: z.string(),
  device: z.string(),
  slots: z.number().int(),
  status: z.enum(WORKER_STATUSES),
  lastSeenAt: IsoDateSchema,
  createdAt: IsoDateSchema,
  /** The members it holds now. */
  members: z.array(
    z.object({
      memberId: z.string(),
      runId: z.string(),
      index: z.number().int(),
      status: z.enum(MEMBER_STATUSES),
    }),
  ),
});

export const RunSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  status: z.enum(RUN_STATUSES),
  datasetName: z.string(),
  model: RunConfigSchema.shape.model.unwrap(),
  /** The model file's name when the run trains one (`model` then plays no part); else null. */
  modelFile: z.string().nullable(),
  members: z.number().int(),
  epochs: z.number().int(),
  sharding: RunConfigSchema.shape.sharding.unwrap(),
  seed: z.number().int(),
  error: z.string().nullable(),
  createdAt: IsoDateSchema,
  startedAt: IsoDateSchema.nullable(),
  finishedAt: IsoDateSchema.nullable(),
});

/**
 * A run's best strategy by test accuracy, from the most final numbers there are: its stored
 * `result`, else its latest complete `round`, else the `live` view (round = the round, else null).
 */
export const BestStrategySchema = z.object({
  strategy: z.string(),
  accuracy: z.number(),
  source: z.enum(['result', 'round', 'live']),
  round: z.number().int().nullable(),
});

/** A row of the run list (GET /api/runs, the dashboard's Runs page): the summary and its best strategy. */
export const RunListItemSchema = RunSummarySchema.extend({ best: BestStrategySchema.nullable() });

export const MemberViewSchema = z.object({
  id: z.string(),
  index: z.number().int(),
  status: z.enum(MEMBER_STATUSES),
  workerId: z.string().nullable(),
  attempt: z.number().int(),
  leaseExpiresAt: IsoDateSchema.nullable(),
  overrides: MemberOverridesSchema,
  step: z.number().int(),
  epoch: z.number().int(),
  planOffset: z.number().int(),
  samples: z.number().int(),
  /** Mini-batches of the whole shard plan; null before it is known. */
  totalBatches: z.number().int().nullable(),
  /** 0–1; null while the plan's length is unknown. */
  progress: z.number().nullable(),
  samplesPerSecond: z.number().nullable(),
  valAccuracy: z.number().nullable(),
  testAccuracy: z.number().nullable(),
  error: z.string().nullable(),
});

export const DiversityViewSchema = z.object({
  summary: StoredDiversitySummarySchema,
  pairwise: PairwiseMatricesSchema,
});

export const EvaluationViewSchema = z.object({
  /** -1 = the live view (each member's latest round), else a round every member reached. */
  round: z.number().int(),
  memberCount: z.number().int(),
  /** Strategy → scores, per split. */
  ensemble: z.object({
    validation: z.record(z.string(), StrategyResultSchema),
    test: z.record(z.string(), StrategyResultSchema),
  }),
  diversity: z.object({ validation: DiversityViewSchema.nullable(), test: DiversityViewSchema.nullable() }),
});

export const RunDetailSchema = RunSummarySchema.extend({
  config: RunConfigSchema,
  datasetSha256: z.string().nullable(),
  numClasses: z.number().int(),
  members: z.array(MemberViewSchema),
  live: EvaluationViewSchema.nullable(),
  latestRound: EvaluationViewSchema.nullable(),
  /** The final table, once the run has completed. */
  result: RunResultSchema.nullable(),
});

/** One voting strategy's scores of one round and split (the EnsembleEval table). */
export const EnsembleEvalSchema = StrategyResultSchema.extend({
  runId: z.string(),
  round: z.number().int(),
  split: z.enum(SPLITS),
  strategy: z.string(),
  memberCount: z.number().int(),
  createdAt: IsoDateSchema,
  updatedAt: IsoDateSchema,
});

/** The diversity of one round and split (the DiversityEval table). */
export const DiversityEvalSchema = z.object({
  runId: z.string(),
  round: z.number().int(),
  split: z.enum(SPLITS),
  pairwise: PairwiseMatricesSchema,
  summary: StoredDiversitySummarySchema,
  memberCount: z.number().int(),
  createdAt: IsoDateSchema,
  updatedAt: IsoDateSchema,
});

export const MetricPointViewSchema = z.object({
  memberId: z.string(),
  memberIndex: z.number().int(),
  step: z.number().int(),
  epoch: z.number().int(),
  loss: z.number(),
  accuracy: z.number(),
  samplesPerSecond: z.number(),
  createdAt: IsoDateSchema,
});

export type Health = z.output<typeof HealthSchema>;
export type WorkerView = z.output<typeof WorkerViewSchema>;
export type DatasetListing = z.output<typeof DatasetListingSchema>;
export type RunSummary = z.output<typeof RunSummarySchema>;
export type BestStrategy = z.output<typeof BestStrategySchema>;
export type RunListItem = z.output<typeof RunListItemSchema>;
export type MemberView = z.output<typeof MemberViewSchema>;
export type DiversityView = z.output<typeof DiversityViewSchema>;
export type EvaluationView = z.output<typeof EvaluationViewSchema>;
export type RunDetail = z.output<typeof RunDetailSchema>;
export type EnsembleEvalView = z.output<typeof EnsembleEvalSchema>;
export type DiversityEvalView = z.output<typeof DiversityEvalSchema>;
export type MetricPointView = z.output<typeof MetricPointViewSchema>;
