import { z } from 'zod';
import { hasDropout, ModelFileSchema } from './model-file';
import { withKeySuggestions } from './nearest-key';

/**
 * The run config: what `chorus train --config run.json` reads and what the coordinator's
 * `POST /api/runs` accepts. The name lists below are the only ones: libs/data, libs/models, the
 * worker and the dashboard import them (and the types derived from them) from here.
 */
export const DATASET_NAMES = ['mnist', 'fashion-mnist', 'digits', 'sign-mnist', 'synthetic'] as const;
/**
 * Dataset kinds read from the user's own files (README "Your own data"): the data comes from
 * `datasetPath` (or an uploaded bundle, `datasetBundle`), its shape and classes from the files.
 * A new kind is added here and given a loader in libs/data (file-kinds.ts, FILE_DATASET_LOADERS).
 */
export const FILE_DATASET_KINDS = ['csv', 'npy', 'images'] as const;
/** Every value of a run config's `dataset`: a built-in dataset or a kind of file. */
export const DATASET_KINDS = [...DATASET_NAMES, ...FILE_DATASET_KINDS] as const;
/** How features are rescaled (statistics of the training split only): see DatasetOptionsSchema. */
export const NORMALIZATIONS = ['standard', 'minmax', 'none'] as const;
export const MODEL_NAMES = ['mlp', 'fashion-dnn', 'fashion-small', 'sign-cnn', 'lenet5', 'small-cnn'] as const;
export const SHARDING_STRATEGIES = ['round-robin', 'disjoint', 'bootstrap', 'full'] as const;
export const OPTIMIZERS = ['adam', 'sgd'] as const;
export const ACTIVATIONS = ['relu', 'sigmoid', 'tanh'] as const;

const positiveInt = (max: number) => z.number().int().min(1).max(max);

export const MemberOverrideSchema = z
  .object({
    member: z.number().int().min(0).describe('index of the member this override applies to'),
    /** Seed of every initializer and dropout mask of the member (default: derived from the run seed). */
    seed: z.number().int().min(0).optional(),
    /** Activation of the hidden layers (dense and convolutional); the output stays softmax. */
    activation: z.enum(ACTIVATIONS).optional(),
    /**
     * Replaces the rate of every dropout layer; models without dropout get one after each hidden
     * dense layer when it is > 0. 0 removes dropout.
     */
    dropout: z.number().min(0).max(0.95).optional(),
    /**
     * Units of the model's widest hidden Dense layer; its other hidden layers (Dense units,
     * convolution filters) scale in proportion (model-size.ts: MODEL_DEFAULT_WIDTH, hiddenSize).
     */
    width: z.number().int().min(1).max(8192).optional(),
    optimizer: z.enum(OPTIMIZERS).optional(),
    learningRate: z.number().positive().max(10).optional(),
  })
  .strict();

/** The largest height or width an `images` dataset is resized to. */
export const MAX_IMAGE_SIDE = 4096;

/**
 * How a `csv`, `npy` or `images` dataset is read (README "Your own data"); refused with a built-in dataset.
 */
export const DatasetOptionsSchema = z
  .object({
    /**
     * csv: the column holding the class, by header name or 0-based index (default: the last).
     * Its values may be strings or integers; classes are numbered in sorted order of the labels.
     */
    labelColumn: z.union([z.string().trim().min(1).max(256), z.number().int().min(0).max(1_000_000)]).optional(),
    /** csv: a second file (same columns) holding the test split; else `testFraction` is held out. */
    testPath: z
      .string()
      .min(1)
      .max(4096)
      .refine((path) => !path.includes('\0'), 'must not contain a NUL character')
      .optional(),
    /**
     * csv without `testPath`, images without train/ and test/ folders: the share of rows (images)
     * held out as the test split, seeded by the run seed (default 0.2).
     */
    testFraction: z.number().gt(0).max(0.5).optional(),
    /** images: [height, width] every image is resized to (default: the size all images share). */
    imageSize: z
      .tuple([z.number().int().min(1).max(MAX_IMAGE_SIDE), z.number().int().min(1).max(MAX_IMAGE_SIDE)])
      .optional(),
    /** images: 1 (grayscale) or 3 (RGB); default 1 when every image is grayscale, else 3. */
    channels: z.union([z.literal(1), z.literal(3)]).optional(),
    /**
     * Per-feature rescaling, statistics from the training split only, recorded in the dataset's
     * `preprocess` (default: `standard` for csv, `none` for npy).
     */
    normalize: z.enum(NORMALIZATIONS).optional(),
  })
  .strict();

const SHA256_HEX = /^[0-9a-f]{64}$/;

export const RunConfigSchema = z
  .object({
    name: z.string().trim().min(1).max(120).optional(),
    /** A built-in dataset (DATASET_NAMES) or a kind of file (FILE_DATASET_KINDS). */
    dataset: z.enum(DATASET_KINDS).default('mnist'),
    datasetPath: z
      .string()
      .min(1)
      .max(4096)
      .refine((path) => !path.includes('\0'), 'must not contain a NUL character')
      .optional()
      .describe('directory or file of the dataset when not at its default place'),
    /** How a `csv`/`npy`/`images` dataset is read: DatasetOptionsSchema. */
    datasetOptions: DatasetOptionsSchema.optional(),
    /**
     * A `csv`/`npy` run on a dataset bundle already stored on the coordinator (uploaded with
     * `PUT /api/datasets/:sha256`, as `chorus run` does): its sha256. Excludes `datasetPath`;
     * `datasetOptions` then only record how the bundle was made.
     */
    datasetBundle: z.string().regex(SHA256_HEX, 'must be a sha256 hex digest').optional(),
    model: z.enum(MODEL_NAMES).default('mlp'),
    /**
     * A model brought from a Keras/TF.js file (`--model-file`), in place of `model`: see
     * model-file.ts and README "Your own model". Members take no `width` or `activation` override.
     */
    modelFile: ModelFileSchema.optional(),
    members: positiveInt(64).default(5),
    sharding: z.enum(SHARDING_STRATEGIES).default('round-robin'),
    epochs: positiveInt(1000).default(2),
    batchSize: positiveInt(8192).default(64),
    seed: z.number().int().min(0).max(2 ** 31 - 1).default(1),
    trainLimit: z.number().int().min(1).optional().describe('use at most this many training samples'),
    validationFraction: z.number().gt(0).max(0.5).default(0.1),
    learningRate: z.number().positive().max(10).optional(),
    optimizer: z.enum(OPTIMIZERS).optional(),
    memberOverrides: z.array(MemberOverrideSchema).max(64).default([]),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    checkDatasetFields(cfg, ctx);
    const seen = new Set<number>();
    cfg.memberOverrides.forEach((o, i) => {
      if (o.member >= cfg.members) {
        ctx.addIssue({
          code: 'custom',
          path: ['memberOverrides', i, 'member'],
          message: `member ${o.member} does not exist: the run has ${cfg.members} members (0–${cfg.members - 1})`,
        });
      }
      if (seen.has(o.member)) {
        ctx.addIssue({
          code: 'custom',
          path: ['memberOverrides', i, 'member'],
          message: `member ${o.member} has more than one override`,
        });
      }
      seen.add(o.member);
      if (cfg.modelFile === undefined) return;
      for (const key of ['width', 'activation'] as const) {
        if (o[key] !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['memberOverrides', i, key],
            message: `not available with a model file: its layers are built as ${cfg.modelFile.fileName} gives them`,
          });
        }
      }
      if (o.dropout !== undefined && o.dropout > 0 && !hasDropout(cfg.modelFile)) {
        ctx.addIssue({
          code: 'custom',
          path: ['memberOverrides', i, 'dropout'],
          message: `${cfg.modelFile.fileName} has no Dropout layer whose rate it could replace`,
        });
      }
    });
    if (cfg.modelFile !== undefined && cfg.model !== 'mlp') {
      ctx.addIssue({
        code: 'custom',
        path: ['model'],
        message: `give either a built-in model or a model file, not both (model ${cfg.model}, modelFile ${cfg.modelFile.fileName})`,
      });
    }
  });

function checkDatasetFields(
  cfg: {
    dataset: DatasetKind;
    datasetPath?: string | undefined;
    datasetBundle?: string | undefined;
    datasetOptions?: z.output<typeof DatasetOptionsSchema> | undefined;
  },
  ctx: z.RefinementCtx,
): void {
  const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  if (!isFileDatasetKind(cfg.dataset)) {
    if (cfg.datasetOptions !== undefined)
      issue(['datasetOptions'], `only for a dataset of your own files (${FILE_DATASET_KINDS.join(', ')}), not ${cfg.dataset}`);
    if (cfg.datasetBundle !== undefined)
      issue(['datasetBundle'], `only for a dataset of your own files (${FILE_DATASET_KINDS.join(', ')}), not ${cfg.dataset}`);
    return;
  }
  if (cfg.datasetBundle !== undefined && cfg.datasetPath !== undefined)
    issue(['datasetBundle'], 'give either datasetPath or datasetBundle, not both');
  if (cfg.datasetBundle === undefined && cfg.datasetPath === undefined)
    issue(['datasetPath'], `a ${cfg.dataset} dataset needs datasetPath (the file or directory) or datasetBundle (an uploaded bundle)`);
  const options = cfg.datasetOptions ?? {};
  if (cfg.dataset !== 'csv') {
    for (const key of ['labelColumn', 'testPath'] as const) {
      if (options[key] !== undefined) issue(['datasetOptions', key], `only for csv (a ${cfg.dataset} dataset brings its own labels)`);
    }
  }
  if (cfg.dataset === 'npy' && options.testFraction !== undefined)
    issue(['datasetOptions', 'testFraction'], 'only for csv and images (an npy dataset brings its own test split)');
  if (cfg.dataset !== 'images') {
    for (const key of ['imageSize', 'channels'] as const) {
      if (options[key] !== undefined) issue(['datasetOptions', key], `only for images, not ${cfg.dataset}`);
    }
  } else if (options.normalize !== undefined && options.normalize !== 'none') {
    issue(['datasetOptions', 'normalize'], 'images are scaled to [0, 1] (/255) and not normalised: leave normalize out');
  }
  if (options.testPath !== undefined && options.testFraction !== undefined)
    issue(['datasetOptions', 'testFraction'], 'give either testPath or testFraction, not both');
}

/** True for a built-in dataset (DATASET_NAMES), e.g. an assignment's dataset name that this version can read. */
export function isDatasetName(name: string): name is DatasetName {
  return (DATASET_NAMES as readonly string[]).includes(name);
}

/** True for a dataset kind read from the user's own files (FILE_DATASET_KINDS). */
export function isFileDatasetKind(kind: string): kind is FileDatasetKind {
  return (FILE_DATASET_KINDS as readonly string[]).includes(kind);
}

/** A run config as written by a user (defaults optional). */
export type RunConfigInput = z.input<typeof RunConfigSchema>;
/** A validated run config with every default filled in. */
export type RunConfig = z.output<typeof RunConfigSchema>;
export type MemberOverride = z.output<typeof MemberOverrideSchema>;
/** A built-in dataset. */
export type DatasetName = (typeof DATASET_NAMES)[number];
export type FileDatasetKind = (typeof FILE_DATASET_KINDS)[number];
/** A run config's `dataset`: a built-in dataset or a kind of file. */
export type DatasetKind = (typeof DATASET_KINDS)[number];
export type Normalization = (typeof NORMALIZATIONS)[number];
export type DatasetOptions = z.output<typeof DatasetOptionsSchema>;
export type ModelName = (typeof MODEL_NAMES)[number];
export type ShardingStrategyName = (typeof SHARDING_STRATEGIES)[number];
export type OptimizerName = (typeof OPTIMIZERS)[number];
/** Activation of the hidden layers (dense and convolutional); the output stays softmax. */
export type ActivationName = (typeof ACTIVATIONS)[number];

/** What a run trains, in words: the built-in model's name or the model file's name. */
export function modelLabel(cfg: Pick<RunConfig, 'model' | 'modelFile'>): string {
  return cfg.modelFile === undefined ? cfg.model : cfg.modelFile.fileName;
}

/** Formats zod issues as `path: message` lines a user can act on. */
export function formatIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(config)'}: ${issue.message}`)
    .join('\n');
}

export class RunConfigError extends Error {
  constructor(
    message: string,
    readonly issues: readonly z.core.$ZodIssue[],
  ) {
    super(message);
    this.name = 'RunConfigError';
  }
}

/**
 * Validates a run config; throws RunConfigError listing every problem, an unknown key with the
 * known one it most likely means (the CLI's `--config` and the coordinator's 400 alike).
 */
export function parseRunConfig(input: unknown): RunConfig {
  const result = RunConfigSchema.safeParse(input);
  if (!result.success) {
    const issues = withKeySuggestions(result.error.issues, (path) =>
      Object.keys(
        path.length === 0
          ? RunConfigSchema.shape
          : path[0] === 'datasetOptions'
            ? DatasetOptionsSchema.shape
            : MemberOverrideSchema.shape,
      ),
    );
    throw new RunConfigError(`invalid run config:\n${formatIssues(new z.ZodError(issues))}`, issues);
  }
  return result.data;
}

/** The overrides of one member, or an empty object. */
export function overridesFor(cfg: RunConfig, member: number): Omit<MemberOverride, 'member'> {
  const found = cfg.memberOverrides.find((o) => o.member === member);
  if (!found) return {};
  const { member: _member, ...rest } = found;
  return rest;
}
