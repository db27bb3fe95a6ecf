import { z } from 'zod';
import { OptimalWeightsParamsSchema, SelectionParamsSchema, StackingParamsSchema } from './combiner-params';
import { RunConfigSchema } from './run-config';
import { RunResultSchema, STRATEGY_NAMES } from './run-result';

/** The `format` and `version` of an exported ensemble's `ensemble.json`; a reader refuses any other. */
export const ENSEMBLE_FORMAT = 'chorus-ensemble';
export const ENSEMBLE_FORMAT_VERSION = 1;
/** The manifest's file name inside an export directory. */
export const ENSEMBLE_MANIFEST_FILE = 'ensemble.json';

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const positiveInt = z.number().int().positive();

/**
 * A path inside the export directory: relative, `/`-separated, no `.`/`..` segment, no backslash,
 * so that joining it to the directory can never leave it.
 */
export const ExportPathSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/, 'must be a relative path of letters, digits, _ . -')
  .refine((p) => p.split('/').every((s) => s !== '.' && s !== '..'), 'must not contain . or .. segments');

/**
 * What training did to the dataset's raw values before the members saw them, so that inputs given
 * the way the dataset's own files hold them (IDX bytes 0–255, sklearn digits 0–16) reach the members
 * exactly as the training rows did: `x = (raw / divisor − mean[ch]) / std[ch]`, computed in float64
 * and stored as float32 (libs/models `applyPreprocess`, the one implementation).
 */
export const PreprocessSchema = z.object({
  /** The range raw input values must lie in (inclusive); a value outside it is refused. */
  rawRange: z.tuple([finite, finite]).refine(([lo, hi]) => lo <= hi, 'must be [min, max] with min ≤ max'),
  /** Raw values are divided by this (255 for 8-bit pixels, 16 for sklearn digits, 1 for already scaled data). */
  divisor: z.number().positive().refine(Number.isFinite, 'must be a finite number'),
  /** Per-channel normalization after the division (one entry per channel, or one for all); null: none. */
  normalize: z
    .object({ mean: z.array(finite).min(1), std: z.array(z.number().positive()).min(1) })
    .refine((n) => n.mean.length === n.std.length, 'mean and std must have one entry per channel each')
    .nullable(),
  /** The image each input row is (height × width × channels, row-major, channels last); null for plain feature vectors. */
  image: z.object({ height: positiveInt, width: positiveInt, channels: positiveInt }).nullable(),
});

export const ManifestDatasetSchema = z.object({
  /** The dataset the run trained on (a built-in name, or a user dataset's name). */
  name: z.string().min(1).max(200),
  /** sha256 of the dataset's source bytes (libs/data), when known. */
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  /** The shape of one input row as the members take it (height × width × channels, or [features]). */
  inputShape: z.array(positiveInt).min(1).max(4),
  numClasses: z.number().int().min(2),
  /** One name per class, in class-index order. */
  classNames: z.array(z.string()),
  preprocess: PreprocessSchema,
});

export const ManifestMemberSchema = z.object({
  index: z.number().int().min(0),
  /** The member's directory: `model.json` (TF.js layers format) and its weight shards. */
  path: ExportPathSchema,
  valAccuracy: finite,
  testAccuracy: finite,
  /** Its weight in the weighted strategies: validation accuracy / the sum of the members' (libs/ensemble accuracyWeights). */
  weight: z.number().min(0),
});

/** The learned combiners' parameters, fitted on the run's validation split (those the run has). */
export const ManifestCombinersSchema = z.object({
  stacking: StackingParamsSchema.optional(),
  'optimal-weights': OptimalWeightsParamsSchema.optional(),
  selection: SelectionParamsSchema.optional(),
});

/**
 * `ensemble.json`, the manifest of an exported ensemble (README "Take the ensemble away"): the
 * members as standard TF.js layers models (`members/<i>/model.json` + shards), how inputs are
 * prepared, how the members vote, the run's final figures, and the sha256 of every other file of
 * the directory (a reader refuses a directory whose files do not match).
 */
export const EnsembleManifestSchema = z
  .object({
    format: z.literal(ENSEMBLE_FORMAT),
    version: z.literal(ENSEMBLE_FORMAT_VERSION),
    /** The coordinator's run id, or `local-…` for `chorus train --save`. */
    runId: z.string().min(1).max(100),
    /** ISO 8601 time of the export. */
    createdAt: z.iso.datetime(),
    /** The run's config, as trained. */
    config: RunConfigSchema,
    dataset: ManifestDatasetSchema,
    /** The strategies this ensemble can vote with (the fixed votes, and the learned combiners in `combiners`). */
    strategies: z.array(z.enum(STRATEGY_NAMES)).min(1),
    defaultStrategy: z.enum(STRATEGY_NAMES),
    members: z.array(ManifestMemberSchema).min(1),
    combiners: ManifestCombinersSchema,
    /** The run's final result (member and ensemble test figures, diversity). */
    result: RunResultSchema,
    /** sha256 (hex) of every file of the directory except this manifest, by relative path. */
    files: z.record(ExportPathSchema, z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 hex digest')),
  })
  .superRefine((m, ctx) => {
    if (!m.strategies.includes(m.defaultStrategy)) {
      ctx.addIssue({ code: 'custom', path: ['defaultStrategy'], message: 'must be one of strategies' });
    }
    m.members.forEach((member, i) => {
      if (member.index !== i) {
        ctx.addIssue({ code: 'custom', path: ['members', i, 'index'], message: `must be ${i}` });
      }
    });
    for (const name of ['stacking', 'optimal-weights', 'selection'] as const) {
      const params = m.combiners[name];
      if (m.strategies.includes(name) && params === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['combiners', name],
          message: `is missing for strategy ${name}`,
        });
      }
      if (params !== undefined && params.weights.length !== m.members.length) {
        ctx.addIssue({
          code: 'custom',
          path: ['combiners', name, 'weights'],
          message: `must have one weight per member (${m.members.length})`,
        });
      }
    }
    if (m.dataset.classNames.length !== 0 && m.dataset.classNames.length !== m.dataset.numClasses) {
      ctx.addIssue({
        code: 'custom',
        path: ['dataset', 'classNames'],
        message: 'must have numClasses names (or none)',
      });
    }
  });

export type EnsembleManifest = z.infer<typeof EnsembleManifestSchema>;
export type ManifestDataset = z.infer<typeof ManifestDatasetSchema>;
export type ManifestMember = z.infer<typeof ManifestMemberSchema>;
export type ManifestCombiners = z.infer<typeof ManifestCombinersSchema>;
export type Preprocess = z.infer<typeof PreprocessSchema>;

/**
 * The answer of `GET /api/runs/:id/export`: everything of ensemble.json the coordinator knows —
 * it holds no TensorFlow.js, so `chorus export` downloads each member's final checkpoint
 * (`GET /api/runs/:id/export/members/:index`) and writes the TF.js files itself.
 */
export const RunExportSourceSchema = z.object({
  runId: z.string().min(1).max(100),
  config: RunConfigSchema,
  dataset: ManifestDatasetSchema,
  result: RunResultSchema,
  /** Fitted on the validation predictions of each member's last round with the run's seed, as the result was. */
  combiners: ManifestCombinersSchema,
  /** Each member's final checkpoint: its epoch, size and sha256 (hex), in member order. */
  members: z
    .array(
      z.object({
        index: z.number().int().min(0),
        epoch: z.number().int().min(0),
        bytes: z.number().int().positive(),
        sha256: z.string().regex(/^[0-9a-f]{64}$/),
      }),
    )
    .min(1),
});
export type RunExportSource = z.infer<typeof RunExportSourceSchema>;
