import {
  ACTIVATIONS,
  MODEL_NAMES,
  OPTIMIZERS,
  type ActivationName,
  type MemberModelSpec,
  type OptimizerName,
} from '@chorus/protocol';
import { ModelError } from './errors';

/**
 * What a builder takes: a member's model spec (name, seed and overrides; see MemberModelSpecSchema
 * in @chorus/protocol) and the shape of the data. Anything the spec leaves out takes the model's
 * default (see each model's file and `describeModels()`).
 */
export interface ModelConfig extends MemberModelSpec {
  /** Shape of one sample, e.g. [28, 28, 1] or [784]. */
  inputShape: number[];
  numClasses: number;
}

/** The hyper-parameters a builder works with once defaults and overrides are merged. */
export interface Hyper {
  activation: ActivationName;
  /** null: keep the model's own dropout layout and rates. */
  dropout: number | null;
  /** Units of the widest hidden Dense layer; undefined: the model's own. */
  width: number | undefined;
  optimizer: OptimizerName;
  learningRate: number;
}

export interface ModelDefaults {
  activation: ActivationName;
  optimizer: OptimizerName;
  learningRate: number;
}

function invalid(message: string): ModelError {
  return new ModelError('invalid-config', message);
}

/** Checks a config and merges its overrides with the model's defaults. */
export function resolveHyper(cfg: ModelConfig, defaults: ModelDefaults): Hyper {
  if (!(MODEL_NAMES as readonly string[]).includes(cfg.name)) {
    throw invalid(`unknown model '${String(cfg.name)}'; expected one of ${MODEL_NAMES.join(', ')}`);
  }
  if (!Number.isSafeInteger(cfg.seed)) throw invalid(`seed must be an integer, got ${cfg.seed}`);
  if (!Number.isInteger(cfg.numClasses) || cfg.numClasses < 2) {
    throw invalid(`numClasses must be an integer ≥ 2, got ${cfg.numClasses}`);
  }
  if (
    !Array.isArray(cfg.inputShape) ||
    cfg.inputShape.length === 0 ||
    cfg.inputShape.some((d) => !Number.isInteger(d) || d < 1)
  ) {
    throw new ModelError(
      'incompatible-input',
      `inputShape must be a non-empty list of positive integers, got [${String(cfg.inputShape)}]`,
    );
  }
  const activation = cfg.activation ?? defaults.activation;
  if (!(ACTIVATIONS as readonly string[]).includes(activation)) {
    throw invalid(`activation must be one of ${ACTIVATIONS.join(', ')}, got '${String(activation)}'`);
  }
  const optimizer = cfg.optimizer ?? defaults.optimizer;
  if (!(OPTIMIZERS as readonly string[]).includes(optimizer)) {
    throw invalid(`optimizer must be one of ${OPTIMIZERS.join(', ')}, got '${String(optimizer)}'`);
  }
  const learningRate = cfg.learningRate ?? defaults.learningRate;
  if (!(Number.isFinite(learningRate) && learningRate > 0)) {
    throw invalid(`learningRate must be a positive number, got ${learningRate}`);
  }
  const width = cfg.width;
  if (width !== undefined && !(Number.isInteger(width) && width >= 1)) {
    throw invalid(`width must be a whole number of units ≥ 1, got ${width}`);
  }
  const dropout = cfg.dropout ?? null;
  if (dropout !== null && !(Number.isFinite(dropout) && dropout >= 0 && dropout < 1)) {
    throw invalid(`dropout must be in [0, 1), got ${dropout}`);
  }
  return { activation, dropout, width, optimizer, learningRate };
}
