import { z } from 'zod';
import { hasDropout, ModelFileSchema } from './model-file';
import { withKeySuggestions } from './nearest-key';

/**
 * The run config: what `chorus train --config run.json` reads and what the coordinator's
 * `POST /api/runs` accepts. The name lists below are the only ones: libs/data, libs/models, the
 * worker and the dashboard import them (and the types derived from them) from here.
 */
export const DATASET_NAMES = ['mnist', 'fashion-mnist', 'digits', 'sign-mnist', 'synthetic'] as const;
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

export const RunConfigSchema = z
  .object({
    name: z.string().trim().min(1).max(120).optional(),
    dataset: z.enum(DATASET_NAMES).default('mnist'),
    datasetPath: z
      .string()
      .min(1)
      .max(4096)
      .refine((path) => !path.includes('\0'), 'must not contain a NUL character')
      .optional()
      .describe('directory or file of the dataset when not at its default place'),
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

/** A run config as written by a user (defaults optional). */
export type RunConfigInput = z.input<typeof RunConfigSchema>;
/** A validated run config with every default filled in. */
export type RunConfig = z.output<typeof RunConfigSchema>;
export type MemberOverride = z.output<typeof MemberOverrideSchema>;
export type DatasetName = (typeof DATASET_NAMES)[number];
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
      Object.keys(path.length === 0 ? RunConfigSchema.shape : MemberOverrideSchema.shape),
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
