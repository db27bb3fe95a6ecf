import { ModelError } from './errors';

export type ModelName = 'mlp' | 'fashion-dnn' | 'fashion-small' | 'sign-cnn' | 'lenet5' | 'small-cnn';

export const MODEL_NAMES: readonly ModelName[] = Object.freeze([
  'mlp',
  'fashion-dnn',
  'fashion-small',
  'sign-cnn',
  'lenet5',
  'small-cnn',
] as const);

export type HiddenActivation = 'relu' | 'sigmoid' | 'tanh';
export type OptimizerName = 'adam' | 'sgd';

/**
 * Per-member overrides for heterogeneous ensembles. Anything left out takes the model's default
 * (see each model's file and `describeModels()`).
 */
export interface ModelOverrides {
  /** Seed of every initializer and dropout mask of the member. */
  seed?: number;
  /** Activation of the hidden layers (dense and convolutional); the output stays softmax. */
  activation?: HiddenActivation;
  /**
   * Dropout rate in [0, 1): replaces the rate of every dropout layer; models without dropout get
   * one after each hidden dense layer when it is > 0. 0 removes dropout.
   */
  dropout?: number;
  /** Multiplier of every hidden width (dense units, convolution filters), rounded, at least 1. */
  width?: number;
  optimizer?: OptimizerName;
  learningRate?: number;
}

export interface ModelConfig extends ModelOverrides {
  name: ModelName;
  /** Shape of one sample, e.g. [28, 28, 1] or [784]. */
  inputShape: number[];
  numClasses: number;
  seed: number;
}

/** The hyper-parameters a builder works with once defaults and overrides are merged. */
export interface Hyper {
  activation: HiddenActivation;
  /** null: keep the model's own dropout layout and rates. */
  dropout: number | null;
  width: number;
  optimizer: OptimizerName;
  learningRate: number;
}

export interface ModelDefaults {
  activation: HiddenActivation;
  optimizer: OptimizerName;
  learningRate: number;
}

const ACTIVATIONS: readonly HiddenActivation[] = ['relu', 'sigmoid', 'tanh'];
const OPTIMIZERS: readonly OptimizerName[] = ['adam', 'sgd'];

function invalid(message: string): ModelError {
  return new ModelError('invalid-config', message);
}

/** Checks a config and merges its overrides with the model's defaults. */
export function resolveHyper(cfg: ModelConfig, defaults: ModelDefaults): Hyper {
  if (!MODEL_NAMES.includes(cfg.name)) {
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
  if (!ACTIVATIONS.includes(activation)) {
    throw invalid(`activation must be one of ${ACTIVATIONS.join(', ')}, got '${String(activation)}'`);
  }
  const optimizer = cfg.optimizer ?? defaults.optimizer;
  if (!OPTIMIZERS.includes(optimizer)) {
    throw invalid(`optimizer must be one of ${OPTIMIZERS.join(', ')}, got '${String(optimizer)}'`);
  }
  const learningRate = cfg.learningRate ?? defaults.learningRate;
  if (!(Number.isFinite(learningRate) && learningRate > 0)) {
    throw invalid(`learningRate must be a positive number, got ${learningRate}`);
  }
  const width = cfg.width ?? 1;
  if (!(Number.isFinite(width) && width > 0)) throw invalid(`width must be a positive number, got ${width}`);
  const dropout = cfg.dropout ?? null;
  if (dropout !== null && !(Number.isFinite(dropout) && dropout >= 0 && dropout < 1)) {
    throw invalid(`dropout must be in [0, 1), got ${dropout}`);
  }
  return { activation, dropout, width, optimizer, learningRate };
}

/** A hidden width scaled by the width override (at least 1 unit). */
export function scaleWidth(units: number, width: number): number {
  return Math.max(1, Math.round(units * width));
}
