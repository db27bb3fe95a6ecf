import { z } from 'zod';

/**
 * A model brought from a file (`chorus train|run --model-file`): Chorus' own description of the
 * layers of a Keras/TF.js topology, converted once by libs/models (`readModelFile`) from the JSON
 * the user gave and stored in the run config (`modelFile`), so every worker builds the same model
 * without reading a file. Only layers Chorus can seed, checkpoint and train are expressible here.
 * Shapes and parameters are computed by arithmetic alone (`summarizeModelFile`), like Keras'
 * `model.summary()`, so the coordinator, the CLI and the dashboard judge a file before training.
 */

export const FILE_ACTIVATIONS = ['relu', 'sigmoid', 'tanh', 'softmax', 'linear'] as const;
export const FILE_INITIALIZERS = [
  'glorotUniform',
  'glorotNormal',
  'heNormal',
  'heUniform',
  'lecunNormal',
  'lecunUniform',
] as const;
export type FileActivation = (typeof FILE_ACTIVATIONS)[number];
export type FileInitializer = (typeof FILE_INITIALIZERS)[number];

/** tfjs' rule for layer and weight names (checkpoints key weights by them). */
export const LAYER_NAME_PATTERN = /^[A-Za-z0-9][-A-Za-z0-9._]*$/;
const layerName = z
  .string()
  .max(200)
  .regex(LAYER_NAME_PATTERN, 'a layer name is letters, digits, "-", "." and "_" (tfjs names)');
const size = z.number().int().min(1).max(1_000_000);
const padding = z.enum(['same', 'valid']);
const activation = z.enum(FILE_ACTIVATIONS);
const init = z.enum(FILE_INITIALIZERS);
const pool = <K extends 'maxPool' | 'avgPool'>(kind: K) =>
  z.object({ kind: z.literal(kind), name: layerName, poolSize: size, strides: size, padding }).strict();

export const ModelFileLayerSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('dense'), name: layerName, units: size, activation, init }).strict(),
  z
    .object({
      kind: z.literal('conv2d'),
      name: layerName,
      filters: size,
      kernelSize: size,
      padding,
      activation,
      init,
    })
    .strict(),
  pool('maxPool'),
  pool('avgPool'),
  z.object({ kind: z.literal('flatten'), name: layerName }).strict(),
  z.object({ kind: z.literal('dropout'), name: layerName, rate: z.number().min(0).lt(1) }).strict(),
  z
    .object({
      kind: z.literal('batchNorm'),
      name: layerName,
      momentum: z.number().min(0).max(1),
      epsilon: z.number().positive().max(1),
    })
    .strict(),
  z.object({ kind: z.literal('activation'), name: layerName, activation }).strict(),
  z
    .object({
      kind: z.literal('reshape'),
      name: layerName,
      targetShape: z.array(z.number().int().min(-1).max(1_000_000)).min(1).max(8),
    })
    .strict(),
]);
export type ModelFileLayer = z.infer<typeof ModelFileLayerSchema>;

/**
 * The initial weights of a model file (a TF.js `model.json` with a weights manifest): every member
 * starts from them instead of seeded initial values. They travel apart from the run config, as a
 * Chorus weights container (libs/models weights.ts) stored content-addressed on the coordinator
 * (`PUT /api/weights/:sha256`, as `chorus run` uploads it) and fetched by each worker; the config
 * records what identifies them, so every worker builds the same model or refuses.
 */
export const ModelFileWeightsSchema = z
  .object({
    /** sha256 of the weights container's bytes. */
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 hex digest'),
    /** Its size in bytes. */
    bytes: z.number().int().min(1),
    /** The number of weight tensors (kernels, biases, BatchNormalization statistics). */
    tensors: z.number().int().min(1).max(4096),
  })
  .strict();
export type ModelFileWeights = z.infer<typeof ModelFileWeightsSchema>;

export const ModelFileSchema = z
  .object({
    /** The file's base name, shown where a built-in model's name would be. */
    fileName: z.string().trim().min(1).max(255),
    /** The model's own name in the file (Keras `config.name`). */
    name: z.string().max(200),
    /** One sample's shape the file declares (no batch axis); null: it declares none. */
    inputShape: z.array(size).min(1).max(8).nullable(),
    layers: z.array(ModelFileLayerSchema).min(1).max(256),
    /** Weights every member starts from (a model.json's manifest); absent: seeded initial weights. */
    weights: ModelFileWeightsSchema.optional(),
  })
  .strict()
  .superRefine((file, ctx) => {
    const seen = new Set<string>();
    file.layers.forEach((layer, i) => {
      if (seen.has(layer.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['layers', i, 'name'],
          message: `layer name "${layer.name}" is used twice`,
        });
      }
      seen.add(layer.name);
      const softmax = ('activation' in layer && layer.activation === 'softmax') || false;
      if (softmax && i !== file.layers.length - 1) {
        ctx.addIssue({
          code: 'custom',
          path: ['layers', i, 'activation'],
          message: `${describeLayer(file, i)}: softmax is only supported as the output (the last layer)`,
        });
      }
      if (layer.kind === 'reshape' && layer.targetShape.filter((d) => d === -1).length > 1) {
        ctx.addIssue({
          code: 'custom',
          path: ['layers', i, 'targetShape'],
          message: 'at most one -1 in a Reshape',
        });
      }
      if (layer.kind === 'reshape' && layer.targetShape.includes(0)) {
        ctx.addIssue({
          code: 'custom',
          path: ['layers', i, 'targetShape'],
          message: 'a Reshape dimension is ≥ 1 or -1',
        });
      }
    });
    const problem = outputProblem(file);
    if (problem !== null) ctx.addIssue({ code: 'custom', path: ['layers'], message: problem });
  });
export type ModelFile = z.infer<typeof ModelFileSchema>;

/** Keras' class name of each kind, for summaries and messages. */
export const FILE_LAYER_CLASS: Record<ModelFileLayer['kind'], string> = {
  dense: 'Dense',
  conv2d: 'Conv2D',
  maxPool: 'MaxPooling2D',
  avgPool: 'AveragePooling2D',
  flatten: 'Flatten',
  dropout: 'Dropout',
  batchNorm: 'BatchNormalization',
  activation: 'Activation',
  reshape: 'Reshape',
};

/** `layer 3 'dense_2' (Dense)`: how messages name a layer (0-based index in the file's chain). */
export function describeLayer(file: Pick<ModelFile, 'layers'>, index: number): string {
  const layer = file.layers[index];
  return layer === undefined
    ? `layer ${index}`
    : `layer ${index} '${layer.name}' (${FILE_LAYER_CLASS[layer.kind]})`;
}

/**
 * The last Dense layer, whose units are the class count: the model must end in Dense (softmax, or
 * linear logits Chorus puts through softmax) or Dense(linear) → Activation('softmax').
 */
export function outputLayerIndex(file: Pick<ModelFile, 'layers'>): number | null {
  const n = file.layers.length;
  const last = file.layers[n - 1];
  if (last?.kind === 'dense' && (last.activation === 'softmax' || last.activation === 'linear')) return n - 1;
  const before = file.layers[n - 2];
  if (last?.kind === 'activation' && last.activation === 'softmax' && before?.kind === 'dense') {
    return before.activation === 'linear' ? n - 2 : null;
  }
  return null;
}

function outputProblem(file: ModelFile): string | null {
  if (outputLayerIndex(file) !== null) return null;
  return (
    `${describeLayer(file, file.layers.length - 1)} cannot be the output: a model ends in ` +
    `Dense(classes, activation='softmax'), Dense(classes) (logits), or Dense(classes) → Activation('softmax')`
  );
}

/** Why a model file cannot take a dataset (its input or its class count), layer by layer. */
export class ModelFileFitError extends Error {
  override name = 'ModelFileFitError';
}

export interface ModelFileRow {
  /** Index in the file's chain; -1 for the input Chorus flattens to the file's flat input. */
  index: number;
  name: string;
  className: string;
  /** Output shape without the batch axis. */
  outputShape: number[];
  params: number;
}

/** One weight tensor of a model file's layers, named as tfjs names it (`dense_1/kernel`). */
export interface ModelFileWeightShape {
  name: string;
  shape: number[];
  /** The layer's index in the file's chain. */
  layer: number;
}

export interface ModelFileSummary {
  inputShape: number[];
  /** The dataset's samples are flattened to the file's flat input (same number of values). */
  flattensInput: boolean;
  rows: ModelFileRow[];
  params: number;
  trainableParams: number;
  numClasses: number;
  /** Every weight tensor in the order tfjs creates them (a model's `weights`). */
  weights: ModelFileWeightShape[];
}

const product = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
const fmtShape = (s: readonly number[]): string => `[${s.join(', ')}]`;

/**
 * Output shapes and parameters of each layer for samples of `dataShape` (Keras `model.summary()`
 * conventions: BatchNormalization counts its moving statistics, as non-trainable). Throws a
 * ModelFileFitError naming the layer when a shape does not fit, and, with `numClasses`, when the
 * output is not that many classes. Without `dataShape` the file's own input shape is used.
 */
export function summarizeModelFile(
  file: ModelFile,
  dataShape?: readonly number[],
  numClasses?: number,
): ModelFileSummary {
  const where = `model file ${file.fileName}`;
  const input = dataShape ?? file.inputShape;
  if (input === null) {
    throw new ModelFileFitError(`${where} declares no input shape: give a dataset to size it against`);
  }
  let flattensInput = false;
  if (
    dataShape !== undefined &&
    file.inputShape !== null &&
    fmtShape(dataShape) !== fmtShape(file.inputShape)
  ) {
    if (file.inputShape.length === 1 && product(dataShape) === file.inputShape[0]) {
      flattensInput = true;
    } else {
      throw new ModelFileFitError(
        `${where}: its input shape ${fmtShape(file.inputShape)} does not fit the dataset's samples ` +
          `${fmtShape(dataShape)}${file.inputShape.length === 1 ? ` (${product(dataShape)} values)` : ''}`,
      );
    }
  }
  let shape = flattensInput ? [product(input)] : [...input];
  const rows: ModelFileRow[] = [];
  if (flattensInput)
    rows.push({ index: -1, name: '(input)', className: 'Flatten', outputShape: [...shape], params: 0 });
  let params = 0;
  let trainableParams = 0;
  const weights: ModelFileWeightShape[] = [];
  const weight = (i: number, name: string, shape: number[]) =>
    weights.push({ name: `${file.layers[i]?.name}/${name}`, shape, layer: i });
  file.layers.forEach((layer, i) => {
    const at = `${where}: ${describeLayer(file, i)}`;
    const sees = `gets ${fmtShape(shape)}`;
    let p = 0;
    switch (layer.kind) {
      case 'flatten':
        shape = [product(shape)];
        break;
      case 'dense':
        if (shape.length !== 1) {
          throw new ModelFileFitError(
            `${at} ${sees}: Chorus applies Dense to flat input only (add a Flatten before it)`,
          );
        }
        p = (shape[0] as number) * layer.units + layer.units;
        weight(i, 'kernel', [shape[0] as number, layer.units]);
        weight(i, 'bias', [layer.units]);
        shape = [layer.units];
        break;
      case 'conv2d':
      case 'maxPool':
      case 'avgPool': {
        if (shape.length !== 3) {
          throw new ModelFileFitError(`${at} ${sees}: it needs images [height, width, channels]`);
        }
        const [h, w, c] = shape as [number, number, number];
        const window = layer.kind === 'conv2d' ? layer.kernelSize : layer.poolSize;
        const stride = layer.kind === 'conv2d' ? 1 : layer.strides;
        const out = (n: number) =>
          layer.padding === 'same' ? Math.ceil(n / stride) : Math.floor((n - window) / stride) + 1;
        if (out(h) < 1 || out(w) < 1) {
          throw new ModelFileFitError(
            `${at} ${sees}: too small for its ${window}×${window} window with ${layer.padding} padding`,
          );
        }
        if (layer.kind === 'conv2d') {
          p = window * window * c * layer.filters + layer.filters;
          weight(i, 'kernel', [window, window, c, layer.filters]);
          weight(i, 'bias', [layer.filters]);
        }
        shape = [out(h), out(w), layer.kind === 'conv2d' ? layer.filters : c];
        break;
      }
      case 'batchNorm': {
        const c = shape[shape.length - 1] as number;
        p = 4 * c;
        trainableParams -= 2 * c; // moving mean and variance
        for (const name of ['gamma', 'beta', 'moving_mean', 'moving_variance']) weight(i, name, [c]);
        break;
      }
      case 'reshape': {
        const known = product(layer.targetShape.filter((d) => d !== -1));
        const total = product(shape);
        const target = layer.targetShape.map((d) => (d === -1 ? total / known : d));
        if (product(target) !== total || !target.every(Number.isInteger)) {
          throw new ModelFileFitError(
            `${at} ${sees} (${total} values): cannot reshape to ${fmtShape(layer.targetShape)}`,
          );
        }
        shape = target;
        break;
      }
      case 'dropout':
      case 'activation':
        break;
    }
    params += p;
    trainableParams += p;
    rows.push({
      index: i,
      name: layer.name,
      className: FILE_LAYER_CLASS[layer.kind],
      outputShape: [...shape],
      params: p,
    });
  });
  const outIndex = outputLayerIndex(file) as number; // the schema guarantees an output layer
  const classes = (file.layers[outIndex] as { units: number }).units;
  if (numClasses !== undefined && classes !== numClasses) {
    throw new ModelFileFitError(
      `${where}: ${describeLayer(file, outIndex)} has ${classes} units, the output over the classes; ` +
        `the dataset has ${numClasses} classes`,
    );
  }
  return {
    inputShape: [...input],
    flattensInput,
    rows,
    params,
    trainableParams,
    numClasses: classes,
    weights,
  };
}

/** Whether the file has Dropout layers (a member's `dropout` override replaces their rates). */
export function hasDropout(file: ModelFile): boolean {
  return file.layers.some((l) => l.kind === 'dropout');
}

/** A weight as a weights container lists it (libs/models weights.ts). */
export interface InitialWeightEntry {
  name: string;
  shape: number[];
  dtype: string;
}

const shapeOf = (s: readonly number[]) => `[${s.join(', ')}]`;

/**
 * Why `entries` (initial weights, in any order) are not exactly the weights of `file`'s layers on
 * samples of `dataShape` (default: the file's input shape; without either only the names are
 * compared), naming the weight and its layer; null when they are. `where` names the weights in the
 * message (a file, a sha256).
 */
export function weightsMismatch(
  file: ModelFile,
  entries: readonly InitialWeightEntry[],
  where: string,
  dataShape?: readonly number[],
): string | null {
  let expected: { name: string; shape: number[] | null; layer: number }[];
  if (dataShape === undefined && file.inputShape === null) {
    // No input shape to size the first layer by: the names are checked, the shapes later.
    expected = file.layers.flatMap((layer, i) => {
      const names =
        layer.kind === 'dense' || layer.kind === 'conv2d'
          ? ['kernel', 'bias']
          : layer.kind === 'batchNorm'
            ? ['gamma', 'beta', 'moving_mean', 'moving_variance']
            : [];
      return names.map((n) => ({ name: `${layer.name}/${n}`, shape: null, layer: i }));
    });
  } else {
    try {
      expected = summarizeModelFile(file, dataShape).weights;
    } catch (error) {
      if (error instanceof ModelFileFitError) return error.message;
      throw error;
    }
  }
  const given = new Map(entries.map((e) => [e.name, e]));
  for (const w of expected) {
    const e = given.get(w.name);
    const layer = describeLayer(file, w.layer);
    if (e === undefined) {
      const names = entries.slice(0, 12).map((x) => `"${x.name}"`);
      return `${where} have no weight "${w.name}" (of ${layer}); they have ${names.join(', ')}${entries.length > 12 ? ', …' : ''}`;
    }
    if (e.dtype !== 'float32') return `${where}: weight "${w.name}" is ${e.dtype}; ${layer} needs float32`;
    if (w.shape !== null && shapeOf(e.shape) !== shapeOf(w.shape)) {
      return `${where}: weight "${w.name}" has shape ${shapeOf(e.shape)}; ${layer} needs ${shapeOf(w.shape)}`;
    }
    given.delete(w.name);
  }
  const extra = [...given.keys()];
  if (extra.length > 0) {
    return (
      `${where}: weight${extra.length > 1 ? 's' : ''} ${extra
        .slice(0, 6)
        .map((n) => `"${n}"`)
        .join(', ')}` +
      `${extra.length > 6 ? ', …' : ''} belong${extra.length > 1 ? '' : 's'} to no layer of ${file.fileName} ` +
      `(its layers' weights are ${expected.map((w) => `"${w.name}"`).join(', ')})`
    );
  }
  return null;
}
