/**
 * How big a member is, by arithmetic alone (no tfjs): the coordinator checks every member of a run
 * against a parameter limit before storing it, `chorus train`/`chorus run` before starting, and the
 * dashboard's New run form shows the counts. libs/models builds the same layers in tfjs; its
 * registry test checks that `countMemberParams` equals tfjs' `model.countParams()` for every model.
 *
 * The `width` override is a number of units: that of the model's widest hidden Dense layer
 * (`MODEL_DEFAULT_WIDTH`). Every hidden Dense layer scales by `width / MODEL_DEFAULT_WIDTH[model]`
 * (rounded, at least 1), and so do the convolutions' filters; the output layer never changes. So
 * `width: 128` gives an mlp four Dense 128 layers, and a sign-cnn `width: 256` halves every layer.
 */
import { ModelFileFitError, summarizeModelFile, type ModelFile } from './model-file';
import type { DatasetKind, DatasetName, MemberOverride, ModelName, RunConfig } from './run-config';
import { isFileDatasetKind, overridesFor } from './run-config';

/** Sample shape and class count of each built-in dataset (a `datasetPath` holds the same format). */
export const DATASET_SHAPES: Record<DatasetName, { inputShape: readonly number[]; numClasses: number }> = {
  mnist: { inputShape: [28, 28, 1], numClasses: 10 },
  'fashion-mnist': { inputShape: [28, 28, 1], numClasses: 10 },
  digits: { inputShape: [8, 8, 1], numClasses: 10 },
  'sign-mnist': { inputShape: [28, 28, 1], numClasses: 24 },
  synthetic: { inputShape: [8, 8, 1], numClasses: 4 },
};

/** Sample shape and class count of a dataset. */
export interface DatasetShape {
  inputShape: readonly number[];
  numClasses: number;
}

/**
 * The shape of a run's dataset when it is known before loading it (a built-in dataset, whatever its
 * `datasetPath`), or undefined for a kind of file (csv, npy), whose shape comes from its files.
 */
export function knownDatasetShape(dataset: DatasetKind): DatasetShape | undefined {
  return isFileDatasetKind(dataset) ? undefined : DATASET_SHAPES[dataset];
}

/** Models that take any flat feature vector (no convolution): the ones a csv dataset can train. */
export const DENSE_MODELS: readonly ModelName[] = ['mlp', 'fashion-dnn', 'fashion-small'];

/**
 * Why `model` cannot take samples of `inputShape` (a convnet on flat features, an image too small
 * for its layers), or null when it can. `what` names the data in the message (e.g. "data.csv").
 */
export function modelInputRefusal(
  model: ModelName,
  inputShape: readonly number[],
  what: string,
): string | null {
  if (!DENSE_MODELS.includes(model) && inputShape.length !== 3) {
    return (
      `${model} is a convolutional network and needs images [height, width, channels], but ${what} holds ` +
      `samples of shape [${inputShape.join(', ')}]${inputShape.length === 1 ? ' (a flat feature vector)' : ''}: ` +
      `use a dense model (${DENSE_MODELS.join(', ')})`
    );
  }
  try {
    countMemberParams({ model, inputShape, numClasses: 2 });
    return null;
  } catch (error) {
    if (error instanceof IncompatibleInputError) return `${what}: ${error.message}`;
    throw error;
  }
}

type Padding = 'same' | 'valid';
type SizeLayer =
  | { kind: 'flatten' }
  | { kind: 'dense'; units: number }
  | { kind: 'conv'; filters: number; kernel: number; padding: Padding }
  | { kind: 'pool'; padding: Padding }
  | { kind: 'batchNorm' };

const flatten: SizeLayer = { kind: 'flatten' };
const dense = (units: number): SizeLayer => ({ kind: 'dense', units });
const conv = (filters: number, kernel: number, padding: Padding): SizeLayer => ({
  kind: 'conv',
  filters,
  kernel,
  padding,
});
const pool = (padding: Padding): SizeLayer => ({ kind: 'pool', padding });
const bn: SizeLayer = { kind: 'batchNorm' };

/**
 * The layers that hold parameters or change shapes, before the output Dense(C) (dropout and
 * softmax hold none). Each model's file in libs/models describes the same network in full.
 */
const MODEL_LAYERS: Record<ModelName, readonly SizeLayer[]> = {
  mlp: [flatten, dense(50), dense(50), dense(50), dense(50)],
  'fashion-dnn': [flatten, dense(512), dense(512), dense(512), dense(512)],
  'fashion-small': [flatten, dense(100)],
  'sign-cnn': [
    ...[conv(75, 3, 'same'), bn, pool('same')],
    ...[conv(50, 3, 'same'), bn, pool('same')],
    ...[conv(25, 3, 'same'), bn, pool('same')],
    flatten,
    dense(512),
  ],
  lenet5: [
    conv(6, 5, 'same'),
    pool('valid'),
    conv(16, 5, 'valid'),
    pool('valid'),
    flatten,
    dense(120),
    dense(84),
  ],
  'small-cnn': [conv(32, 3, 'same'), pool('valid'), conv(64, 3, 'same'), pool('valid'), flatten, dense(128)],
};

/** Units of each model's widest hidden Dense layer: what `width` sets (the default when omitted). */
export const MODEL_DEFAULT_WIDTH: Record<ModelName, number> = {
  mlp: 50,
  'fashion-dnn': 512,
  'fashion-small': 100,
  'sign-cnn': 512,
  lenet5: 120,
  'small-cnn': 128,
};

/** Default of the per-member parameter limit (CHORUS_MAX_MEMBER_PARAMS, `--max-member-params`). */
export const DEFAULT_MAX_MEMBER_PARAMS = 50_000_000;

/**
 * Units of a hidden Dense layer (or filters of a convolution) designed with `designUnits`, for a
 * member whose override is `width`: scaled by width / MODEL_DEFAULT_WIDTH, rounded, at least 1.
 */
export function hiddenSize(model: ModelName, designUnits: number, width: number | undefined): number {
  if (width === undefined) return designUnits;
  return Math.max(1, Math.round((designUnits * width) / MODEL_DEFAULT_WIDTH[model]));
}

export interface MemberSizeInput {
  model: ModelName;
  /** The run's model file: counted in place of `model` (which then plays no part). */
  modelFile?: ModelFile | undefined;
  inputShape: readonly number[];
  numClasses: number;
  width?: number | undefined;
}

/** Why a model cannot take an input (too small for its convolutions, or not an image). */
export class IncompatibleInputError extends Error {
  override name = 'IncompatibleInputError';
}

/**
 * The member's parameter count (Keras `model.summary()` total: BatchNorm's moving statistics
 * included). Throws an IncompatibleInputError when the input does not fit the model.
 */
export function countMemberParams({
  model,
  modelFile,
  inputShape,
  numClasses,
  width,
}: MemberSizeInput): number {
  if (modelFile !== undefined) {
    try {
      return summarizeModelFile(modelFile, inputShape, numClasses).params;
    } catch (err) {
      if (err instanceof ModelFileFitError) throw new IncompatibleInputError(err.message);
      throw err;
    }
  }
  let shape = [...inputShape];
  let params = 0;
  for (const layer of MODEL_LAYERS[model]) {
    switch (layer.kind) {
      case 'flatten':
        shape = [shape.reduce((a, b) => a * b, 1)];
        break;
      case 'dense': {
        if (shape.length !== 1)
          throw new IncompatibleInputError(`${model} needs a flat input, got [${shape}]`);
        const units = hiddenSize(model, layer.units, width);
        params += (shape[0] as number) * units + units;
        shape = [units];
        break;
      }
      case 'batchNorm':
        params += 4 * (shape[shape.length - 1] as number);
        break;
      case 'conv':
      case 'pool': {
        if (shape.length !== 3) {
          throw new IncompatibleInputError(
            `${model} needs image input [height, width, channels]; got [${inputShape}]`,
          );
        }
        const [h, w, c] = shape as [number, number, number];
        const window = layer.kind === 'conv' ? layer.kernel : 2;
        const stride = layer.kind === 'conv' ? 1 : 2;
        const out = (n: number) =>
          layer.padding === 'same' ? Math.ceil(n / stride) : Math.floor((n - window) / stride) + 1;
        if (out(h) < 1 || out(w) < 1) {
          throw new IncompatibleInputError(`${model}: input [${inputShape}] is too small for its layers`);
        }
        const filters = layer.kind === 'conv' ? hiddenSize(model, layer.filters, width) : c;
        if (layer.kind === 'conv') params += window * window * c * filters + filters;
        shape = [out(h), out(w), filters];
        break;
      }
    }
  }
  return params + (shape[0] as number) * numClasses + numClasses;
}

export interface MemberSize {
  member: number;
  width: number;
  /** null when the dataset's input does not fit the model (`error` says why). */
  params: number | null;
  error?: string;
}

/** Every member's width and parameter count for a run config on a dataset of this shape. */
export function memberSizes(
  config: Pick<RunConfig, 'model' | 'modelFile' | 'members' | 'memberOverrides'>,
  shape: { inputShape: readonly number[]; numClasses: number },
): MemberSize[] {
  return Array.from({ length: config.members }, (_, member) => {
    const width: MemberOverride['width'] = overridesFor(config as RunConfig, member).width;
    const base = { member, width: width ?? MODEL_DEFAULT_WIDTH[config.model] };
    try {
      const { model, modelFile } = config;
      return { ...base, params: countMemberParams({ model, modelFile, ...shape, width }) };
    } catch (err) {
      if (err instanceof IncompatibleInputError) return { ...base, params: null, error: err.message };
      throw err;
    }
  });
}

/**
 * The refusal of a run whose members exceed `limit` parameters (naming each one, its width and
 * count, and the limit), or null when every member fits. An input the model cannot take is not
 * judged here (it fails where the model is built, with its own message).
 */
export function memberParamsRefusal(
  config: Pick<RunConfig, 'model' | 'modelFile' | 'members' | 'memberOverrides'>,
  shape: { inputShape: readonly number[]; numClasses: number },
  limit: number,
): string | null {
  const over = memberSizes(config, shape).filter((s) => s.params !== null && s.params > limit);
  if (over.length === 0) return null;
  const fmt = (n: number) => n.toLocaleString('en-US');
  if (config.modelFile !== undefined) {
    // Every member of a model file has the same layers, so one count speaks for all.
    return (
      `model file ${config.modelFile.fileName} has ${fmt(over[0]?.params as number)} parameters per member: ` +
      `over the limit of ${fmt(limit)} parameters per member`
    );
  }
  const named = over
    .slice(0, 5)
    .map((s) => `member ${s.member} (width ${s.width}) has ${fmt(s.params as number)} parameters`)
    .join('; ');
  const more = over.length > 5 ? `; and ${over.length - 5} more members` : '';
  return (
    `${named}${more}: over the limit of ${fmt(limit)} parameters per member ` +
    `(a ${config.model} is ${fmt(countDefault(config.model, shape))} at its default width ` +
    `${MODEL_DEFAULT_WIDTH[config.model]}; \`width\` is the units of its widest hidden layer)`
  );
}

function countDefault(
  model: ModelName,
  shape: { inputShape: readonly number[]; numClasses: number },
): number {
  return countMemberParams({ model, ...shape });
}

/**
 * Why the run's model file does not fit a dataset of this shape (its input, a layer, or its class
 * count, named), or null when it fits or the run trains a built-in model (those fail where built).
 */
export function modelFileRefusal(
  config: Pick<RunConfig, 'modelFile'>,
  shape: { inputShape: readonly number[]; numClasses: number },
): string | null {
  if (config.modelFile === undefined) return null;
  try {
    summarizeModelFile(config.modelFile, shape.inputShape, shape.numClasses);
    return null;
  } catch (err) {
    if (err instanceof ModelFileFitError) return err.message;
    throw err;
  }
}

/**
 * Why the run's model cannot take the dataset's samples, or null: a model file checked layer by
 * layer (modelFileRefusal), a built-in model by its input (modelInputRefusal). `what` names the data.
 */
export function modelShapeRefusal(
  config: Pick<RunConfig, 'model' | 'modelFile'>,
  shape: { inputShape: readonly number[]; numClasses: number },
  what: string,
): string | null {
  if (config.modelFile !== undefined) {
    const misfit = modelFileRefusal(config, shape);
    return misfit === null ? null : `${misfit} (${what})`;
  }
  return modelInputRefusal(config.model, shape.inputShape, what);
}
