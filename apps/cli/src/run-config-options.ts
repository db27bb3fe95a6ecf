import { readFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import {
  ChorusError,
  DATASET_NAMES,
  DATASET_SHAPES,
  DEFAULT_MAX_MEMBER_PARAMS,
  memberParamsRefusal,
  modelFileRefusal,
  MODEL_NAMES,
  OPTIMIZERS,
  parseRunConfig,
  SHARDING_STRATEGIES,
  type RunConfig,
} from '@chorus/protocol';
import { parseJsonText } from './json-text';
import { readModelFile } from './model-file';

/** The flags of a run config, shared by `chorus train` and `chorus run`. Defaults come from the schema. */
export function addRunConfigOptions(command: Command): Command {
  return command
    .option('--config <file>', 'run config JSON (camelCase fields); flags given here override it')
    .addOption(new Option('--dataset <name>', 'dataset (default mnist)').choices(DATASET_NAMES))
    .option('--dataset-path <path>', 'where the dataset lives when not at its default place')
    .addOption(new Option('--model <name>', 'model (default mlp)').choices(MODEL_NAMES))
    .option('--model-file <file>', 'train your own model: a Keras/TF.js topology JSON (README "Your own model")')
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

const NUMERIC = ['members', 'epochs', 'batchSize', 'seed', 'trainLimit', 'validationFraction', 'learningRate'] as const;

/**
 * Merges `--config` with the flags and validates the result with the run-config schema. A
 * `--model-file` is read here and stored converted in the config (`modelFile`); its notes go to `log`.
 */
export async function runConfigFromFlags(
  flags: RunConfigFlags,
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<RunConfig> {
  let base: Record<string, unknown> = {};
  if (flags.config) {
    let text: string;
    try {
      text = await readFile(flags.config, 'utf8');
    } catch (error) {
      throw new ChorusError('invalid-input', `cannot read --config ${flags.config}: ${(error as Error).message}`);
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
      throw new ChorusError('invalid-input', `--config ${flags.config} must hold a JSON object ({ "epochs": 3, … })`);
    }
    base = value as Record<string, unknown>;
  }
  const merged: Record<string, unknown> = { ...base };
  for (const key of ['dataset', 'datasetPath', 'model', 'sharding', 'optimizer'] as const) {
    if (flags[key] !== undefined) merged[key] = flags[key];
  }
  if (flags.modelFile !== undefined) merged['modelFile'] = await readModelFile(flags.modelFile, log);
  for (const key of NUMERIC) {
    const raw = flags[key];
    if (raw === undefined) continue;
    const value = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(value)) {
      throw new ChorusError('invalid-input', `--${kebab(key)} must be a number, got "${raw}"`);
    }
    merged[key] = value;
  }
  return parseRunConfig(merged);
}

/**
 * Refuses a model file that does not fit the dataset (input shape, a layer, the class count) and a
 * config with a member over `--max-member-params` (default 50 M), counted from the model,
 * its width and the dataset's shape before any dataset is read or coordinator asked. A coordinator
 * applies its own limit as well (CHORUS_MAX_MEMBER_PARAMS).
 */
export function checkMemberParams(cfg: RunConfig, flags: Pick<RunConfigFlags, 'maxMemberParams'>): void {
  const raw = flags.maxMemberParams;
  const limit = raw === undefined ? DEFAULT_MAX_MEMBER_PARAMS : Number(raw);
  if (raw !== undefined && (raw.trim() === '' || !Number.isInteger(limit) || limit < 1)) {
    throw new ChorusError('invalid-input', `--max-member-params must be a whole number ≥ 1, got "${raw}"`);
  }
  const misfit = modelFileRefusal(cfg, DATASET_SHAPES[cfg.dataset]);
  if (misfit !== null) throw new ChorusError('invalid-input', `${misfit} (dataset ${cfg.dataset})`);
  const refusal = memberParamsRefusal(cfg, DATASET_SHAPES[cfg.dataset], limit);
  if (refusal !== null) throw new ChorusError('invalid-input', `${refusal} (--max-member-params)`);
}

function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
