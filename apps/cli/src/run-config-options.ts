import { readFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import {
  ChorusError,
  DATASET_KINDS,
  DEFAULT_MAX_MEMBER_PARAMS,
  knownDatasetShape,
  memberParamsRefusal,
  modelShapeRefusal,
  MODEL_NAMES,
  NORMALIZATIONS,
  OPTIMIZERS,
  parseRunConfig,
  SHARDING_STRATEGIES,
  type DatasetShape,
  type RunConfig,
} from '@chorus/protocol';
import { parseJsonText } from './json-text';
import { readModelFileWithWeights } from './model-file';

/** The flags of a run config, shared by `chorus train` and `chorus run`. Defaults come from the schema. */
export function addRunConfigOptions(command: Command): Command {
  return command
    .option('--config <file>', 'run config JSON (camelCase fields); flags given here override it')
    .addOption(
      new Option(
        '--dataset <name>',
        'a built-in dataset, or csv / npy / images for your own files (default mnist)',
      ).choices(DATASET_KINDS),
    )
    .option(
      '--dataset-path <path>',
      'where the dataset lives when not at its default place; csv: the file; npy: a directory or .npz; images: a directory of class folders',
    )
    .option(
      '--label-column <name|index>',
      'csv: the label column, by header name or 0-based index (default: the last)',
    )
    .option('--test-path <file>', 'csv: a second file holding the test split')
    .option(
      '--test-fraction <f>',
      'csv without --test-path, images without train/ test/: share held out for test, seeded by --seed (default 0.2)',
    )
    .option(
      '--image-size <HxW>',
      'images: resize every image to height × width, e.g. 28x28 (default: the size all images share)',
    )
    .addOption(
      new Option(
        '--channels <n>',
        'images: 1 (grayscale) or 3 (RGB) (default 1 when all images are grayscale, else 3)',
      ).choices(['1', '3']),
    )
    .addOption(
      new Option(
        '--normalize <how>',
        'csv/npy: feature scaling from the training split (default standard for csv, none for npy)',
      ).choices(NORMALIZATIONS),
    )
    .addOption(new Option('--model <name>', 'model (default mlp)').choices(MODEL_NAMES))
    .option(
      '--model-file <file>',
      'train your own model: a Keras/TF.js topology JSON (README "Your own model")',
    )
    .option('--members <n>', 'ensemble members (default 5)')
    .addOption(
      new Option('--sharding <strategy>', 'how mini-batches are shared (default round-robin)').choices(
        SHARDING_STRATEGIES,
      ),
    )
    .option('--epochs <n>', 'epochs (default 2)')
    .option('--batch-size <n>', 'mini-batch size (default 64)')
    .option('--seed <n>', 'run seed: data split, shard plan and member seeds (default 1)')
    .option('--train-limit <n>', 'use at most this many training samples')
    .option('--validation-fraction <f>', 'share of the training data held out for validation (default 0.1)')
    .option('--learning-rate <lr>', "learning rate (default: the model's)")
    .addOption(new Option('--optimizer <name>', "optimizer (default: the model's)").choices(OPTIMIZERS))
    .option(
      '--max-member-params <n>',
      `refuse the run before anything starts if a member has more parameters (default ${DEFAULT_MAX_MEMBER_PARAMS})`,
    );
}

export interface RunConfigFlags {
  config?: string;
  dataset?: string;
  datasetPath?: string;
  labelColumn?: string;
  testPath?: string;
  testFraction?: string;
  normalize?: string;
  imageSize?: string;
  channels?: string;
  model?: string;
  modelFile?: string;
  members?: string;
  sharding?: string;
  epochs?: string;
  batchSize?: string;
  seed?: string;
  trainLimit?: string;
  validationFraction?: string;
  learningRate?: string;
  optimizer?: string;
  maxMemberParams?: string;
}

const NUMERIC = [
  'members',
  'epochs',
  'batchSize',
  'seed',
  'trainLimit',
  'validationFraction',
  'learningRate',
] as const;

/**
 * Merges `--config` with the flags and validates the result with the run-config schema. A
 * `--model-file` is read here and stored converted in the config (`modelFile`); its notes go to `log`.
 */
export async function runConfigFromFlags(
  flags: RunConfigFlags,
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<RunConfig> {
  return (await runConfigAndWeightsFromFlags(flags, log)).config;
}

/**
 * runConfigFromFlags, and the initial weights of a `--model-file` model.json with a weights
 * manifest (the container `config.modelFile.weights` names; null without one).
 */
export async function runConfigAndWeightsFromFlags(
  flags: RunConfigFlags,
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<{ config: RunConfig; weights: Uint8Array | null }> {
  let weights: Uint8Array | null = null;
  let base: Record<string, unknown> = {};
  if (flags.config) {
    let text: string;
    try {
      text = await readFile(flags.config, 'utf8');
    } catch (error) {
      throw new ChorusError(
        'invalid-input',
        `cannot read --config ${flags.config}: ${(error as Error).message}`,
      );
    }
    const parsed = parseJsonText(text);
    if (!parsed.ok) {
      throw new ChorusError(
        'invalid-input',
        `--config ${flags.config} is not valid JSON: ${parsed.reason} at line ${parsed.line}, column ${parsed.column}`,
      );
    }
    const value = parsed.value;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new ChorusError(
        'invalid-input',
        `--config ${flags.config} must hold a JSON object ({ "epochs": 3, … })`,
      );
    }
    base = value as Record<string, unknown>;
  }
  const merged: Record<string, unknown> = { ...base };
  for (const key of ['dataset', 'datasetPath', 'model', 'sharding', 'optimizer'] as const) {
    if (flags[key] !== undefined) merged[key] = flags[key];
  }
  if (flags.modelFile !== undefined) {
    const read = await readModelFileWithWeights(flags.modelFile, log);
    merged['modelFile'] = read.modelFile;
    weights = read.weights;
  }
  const options = datasetOptionsFromFlags(flags, base.datasetOptions);
  if (options !== undefined) merged.datasetOptions = options;
  for (const key of NUMERIC) {
    const raw = flags[key];
    if (raw === undefined) continue;
    const value = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(value)) {
      throw new ChorusError('invalid-input', `--${kebab(key)} must be a number, got "${raw}"`);
    }
    merged[key] = value;
  }
  return { config: parseRunConfig(merged), weights };
}

/** `--label-column`, `--test-path`, `--test-fraction`, `--normalize`, `--image-size`, `--channels` over `--config`'s datasetOptions. */
function datasetOptionsFromFlags(flags: RunConfigFlags, base: unknown): unknown {
  const given: Record<string, unknown> = {};
  if (flags.labelColumn !== undefined) {
    // An index when it is a whole number, else a header name.
    given.labelColumn = /^\d+$/.test(flags.labelColumn.trim())
      ? Number(flags.labelColumn)
      : flags.labelColumn;
  }
  if (flags.testPath !== undefined) given.testPath = flags.testPath;
  if (flags.testFraction !== undefined) {
    const value = Number(flags.testFraction);
    if (flags.testFraction.trim() === '' || !Number.isFinite(value)) {
      throw new ChorusError('invalid-input', `--test-fraction must be a number, got "${flags.testFraction}"`);
    }
    given.testFraction = value;
  }
  if (flags.normalize !== undefined) given.normalize = flags.normalize;
  if (flags.imageSize !== undefined) {
    const m = /^\s*(\d+)\s*[xX×]\s*(\d+)\s*$/.exec(flags.imageSize);
    if (m === null)
      throw new ChorusError(
        'invalid-input',
        `--image-size must be HxW (height x width, e.g. 28x28), got "${flags.imageSize}"`,
      );
    given.imageSize = [Number(m[1]), Number(m[2])];
  }
  if (flags.channels !== undefined) given.channels = Number(flags.channels);
  if (Object.keys(given).length === 0) return base;
  return typeof base === 'object' && base !== null && !Array.isArray(base) ? { ...base, ...given } : given;
}

/**
 * Refuses a config with a member over `--max-member-params` (default 50 M), counted from the model
 * (or model file), its width and the dataset's shape, or a model that cannot take the dataset's
 * samples (a convnet on flat features, a model file whose layers do not fit). For a built-in dataset
 * this runs before any dataset is read or coordinator asked; a csv/npy/images dataset's shape is
 * known once it is loaded (`shape`). A coordinator applies its own limit as well
 * (CHORUS_MAX_MEMBER_PARAMS).
 */
export function checkMemberParams(
  cfg: RunConfig,
  flags: Pick<RunConfigFlags, 'maxMemberParams'>,
  shape: DatasetShape | undefined = knownDatasetShape(cfg.dataset),
): void {
  const raw = flags.maxMemberParams;
  const limit = raw === undefined ? DEFAULT_MAX_MEMBER_PARAMS : Number(raw);
  if (raw !== undefined && (raw.trim() === '' || !Number.isInteger(limit) || limit < 1)) {
    throw new ChorusError('invalid-input', `--max-member-params must be a whole number ≥ 1, got "${raw}"`);
  }
  if (shape === undefined) return;
  const misfit = modelShapeRefusal(cfg, shape, cfg.datasetPath ?? `the ${cfg.dataset} dataset`);
  if (misfit !== null) throw new ChorusError('invalid-input', misfit);
  const refusal = memberParamsRefusal(cfg, shape, limit);
  if (refusal !== null) throw new ChorusError('invalid-input', `${refusal} (--max-member-params)`);
}

function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
