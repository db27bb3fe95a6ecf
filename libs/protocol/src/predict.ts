import { z } from 'zod';
import type { EnsembleManifest, ManifestMember } from './ensemble-manifest';
import { ChorusError } from './errors';
import { STRATEGY_NAMES } from './run-result';

/**
 * The request and answer of a prediction, the same for `chorus serve`'s `POST /predict` and the
 * coordinator's `POST /api/runs/:id/predict`. A request carries **raw** rows: the feature values as
 * the dataset's files hold them (MNIST pixels 0–255, digits 0–16), row-major (height × width ×
 * channels for an image), and the server applies the ensemble's preprocessing (the manifest's
 * `preprocess`), so a client never has to know it.
 */

/** The most rows one request may carry; more is refused with 413 `too-large`. */
export const MAX_PREDICT_ROWS = 256;
/**
 * The largest request body a predict route reads (the coordinator's limit for every route); beyond
 * it: 413 `too-large`. 256 MNIST rows of integer pixels fit in about 0.8 MiB.
 */
export const MAX_PREDICT_BODY_BYTES = 1024 * 1024;

const RowSchema = z.array(z.number().finite('must be a finite number'));

/**
 * `{ rows: number[][] }`: one array of raw feature values per sample. The count of rows and of
 * features is checked against the ensemble by `parsePredictRows` (400 for a wrong feature count,
 * 413 beyond MAX_PREDICT_ROWS), not here: the schema says the shape, the server knows the sizes.
 */
export const PredictRequestSchema = z.strictObject({
  rows: z.array(RowSchema).min(1, 'must hold at least one row'),
});
export type PredictRequest = z.infer<typeof PredictRequestSchema>;

const Probability = z.number().min(0).max(1);
const ClassIndex = z.number().int().min(0);

/** One member's probabilities for a row (C values summing to 1) and its own choice. */
export const MemberPredictionSchema = z.object({
  member: z.number().int().min(0),
  class: ClassIndex,
  probabilities: z.array(Probability),
});

/** One strategy's decision for a row: its class and that class's score (vote share or probability). */
export const StrategyDecisionSchema = z.object({
  strategy: z.enum(STRATEGY_NAMES),
  class: ClassIndex,
  className: z.string(),
  /** The strategy's combined score of its class (a share of votes for the hard votes). */
  probability: Probability,
});

/** The answer for one row. */
export const RowPredictionSchema = z.object({
  /** The class of the ensemble's default strategy (`strategy` of the answer). */
  class: ClassIndex,
  className: z.string(),
  probability: Probability,
  members: z.array(MemberPredictionSchema),
  strategies: z.array(StrategyDecisionSchema),
  /**
   * How much the members disagree on this row: the share of member pairs that choose different
   * classes (0 all agree, 1 all differ), the pairwise disagreement of the diversity measures.
   */
  disagreement: Probability,
});
export type RowPrediction = z.infer<typeof RowPredictionSchema>;

export const PredictAnswerSchema = z.object({
  /** The strategy whose decision is each row's `class`. */
  strategy: z.enum(STRATEGY_NAMES),
  classNames: z.array(z.string()),
  predictions: z.array(RowPredictionSchema),
});
export type PredictAnswer = z.infer<typeof PredictAnswerSchema>;

/**
 * `chorus serve`'s `GET /ensemble`: the export's manifest (ensemble-manifest.ts) without where its
 * files lie (`files`, each member's `path`): what it is, how it votes, how it scored.
 */
export type ServedEnsemble = Omit<EnsembleManifest, 'files' | 'members'> & {
  members: Omit<ManifestMember, 'path'>[];
};

/** `chorus serve`'s `GET /health`. */
export const ServeHealthSchema = z.object({
  ok: z.literal(true),
  members: z.number().int().min(1),
  /** Model calls so far and the rows they held (rows / batches: how well requests are batched). */
  batches: z.number().int().min(0),
  rows: z.number().int().min(0),
});
export type ServeHealth = z.infer<typeof ServeHealthSchema>;

export interface PredictLimits {
  /** Feature values each row must have (the product of the ensemble's input shape). */
  features: number;
  maxRows?: number;
}

/**
 * A request body as one row-major Float32Array of `count` rows. Refuses, naming the field: a body
 * that is not `{ rows: number[][] }` (400 `invalid-input`), a row whose length is not `features`
 * (400), more than `maxRows` rows (413 `too-large`).
 */
export function parsePredictRows(body: unknown, limits: PredictLimits): { x: Float32Array; count: number } {
  const maxRows = limits.maxRows ?? MAX_PREDICT_ROWS;
  // The row count first, before the schema walks every value of an oversized body.
  if (typeof body === 'object' && body !== null && 'rows' in body && Array.isArray(body.rows)) {
    if (body.rows.length > maxRows) {
      throw new ChorusError(
        'too-large',
        `rows: ${body.rows.length} rows in one request; at most ${maxRows} (send them in several requests)`,
      );
    }
  }
  const parsed = PredictRequestSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue && issue.path.length > 0 ? issue.path.join('.') : '(body)';
    throw new ChorusError(
      'invalid-input',
      `${path}: ${issue?.message ?? 'invalid'}; the body is { "rows": [[...${limits.features} numbers], ...] }`,
    );
  }
  const { rows } = parsed.data;
  const x = new Float32Array(rows.length * limits.features);
  rows.forEach((row, i) => {
    if (row.length !== limits.features) {
      throw new ChorusError(
        'invalid-input',
        `rows.${i}: has ${row.length} values; this ensemble takes ${limits.features} per row (its raw input, row-major)`,
      );
    }
    x.set(row, i * limits.features);
  });
  return { x, count: rows.length };
}
