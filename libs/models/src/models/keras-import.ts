/**
 * Keras/TF.js topology JSON → Chorus' `ModelFile` (libs/protocol model-file.ts): each supported
 * layer's settings read and checked, anything Chorus would not build faithfully refused with the
 * file, the entry (`layers[i]`), its name and class. What the file says about initial values
 * (initializer seeds, weights) gives way to each member's seed; the notes say so.
 */
import {
  formatIssues,
  ModelFileSchema,
  outputLayerIndex,
  type ModelFile,
  type ModelFileLayer,
} from '@chorus/protocol';
import { initializerOf, readerOf } from './keras-config';
import { describeRaw, fileError, isObject, readChain, type Json, type RawLayer } from './keras-graph';

export const SUPPORTED_LAYER_CLASSES = [
  'InputLayer',
  'Dense',
  'Conv2D',
  'MaxPooling2D',
  'AveragePooling2D',
  'Flatten',
  'Dropout',
  'BatchNormalization',
  'Activation',
  'Reshape',
] as const;

export interface ImportedModelFile {
  modelFile: ModelFile;
  /** What was read but does not take effect (weights, initializer seeds), one line each. */
  notes: string[];
}

const NO_EXTRAS = [
  'kernel_regularizer',
  'bias_regularizer',
  'activity_regularizer',
  'kernel_constraint',
  'bias_constraint',
];

/** A sample's shape from a Keras batch shape ([null, 28, 28, 1]) or input_shape ([28, 28, 1]). */
function shapeOf(file: string, where: string, v: Json | undefined, batched: boolean): number[] | null {
  if (v === undefined || v === null) return null;
  const dims = Array.isArray(v) ? (batched ? v.slice(1) : v) : null;
  if (
    dims === null ||
    dims.length === 0 ||
    !dims.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 1)
  ) {
    throw fileError(
      file,
      `${where}: input shape ${JSON.stringify(v)} must give every sample dimension as a whole number`,
    );
  }
  return dims as number[];
}

function declaredInput(file: string, layer: RawLayer): number[] | null {
  const c = layer.config;
  const where = describeRaw(layer);
  return (
    shapeOf(file, where, c['batch_input_shape'], true) ??
    shapeOf(file, where, c['batch_shape'], true) ??
    shapeOf(file, where, c['input_shape'], false) ??
    (layer.className === 'InputLayer' ? shapeOf(file, where, c['shape'], false) : null)
  );
}

function convertLayer(file: string, layer: RawLayer, rank: number | null, notes: string[]): ModelFileLayer {
  const r = readerOf(file, layer);
  const name = layer.name;
  if (r.config['trainable'] === false)
    throw r.fail('trainable false is not supported (Chorus trains every layer)');
  const dtype = r.config['dtype'];
  const dtypeName = isObject(dtype) && isObject(dtype['config']) ? dtype['config']['name'] : dtype;
  if (dtypeName !== undefined && dtypeName !== null && dtypeName !== 'float32') {
    throw r.fail(`dtype ${JSON.stringify(dtypeName)} is not supported (float32)`);
  }
  const channelsLast = () =>
    r.only('data_format', ['channels_last'], 'Chorus feeds images as height × width × channels');
  switch (layer.className) {
    case 'Dense':
      r.only('use_bias', [true], 'Chorus builds Dense with a bias');
      r.initIs('bias_initializer', 'Zeros', 'biases start at zero');
      r.none([...NO_EXTRAS, 'lora_rank']);
      return {
        kind: 'dense',
        name,
        units: r.int('units'),
        activation: r.activation(),
        init: initializerOf(r, 'kernel_initializer', notes, file, layer),
      };
    case 'Conv2D':
      channelsLast();
      r.only('use_bias', [true], 'Chorus builds Conv2D with a bias');
      r.only('strides', [1, [1, 1]], 'Chorus builds convolutions of stride 1');
      r.only('dilation_rate', [1, [1, 1]], 'Chorus builds undilated convolutions');
      r.only('groups', [1], 'Chorus builds ungrouped convolutions');
      r.initIs('bias_initializer', 'Zeros', 'biases start at zero');
      r.none([...NO_EXTRAS, 'lora_rank']);
      return {
        kind: 'conv2d',
        name,
        filters: r.int('filters'),
        kernelSize: r.square('kernel_size'),
        padding: r.padding(),
        activation: r.activation(),
        init: initializerOf(r, 'kernel_initializer', notes, file, layer),
      };
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      channelsLast();
      const poolSize = r.square('pool_size', 2);
      return {
        kind: layer.className === 'MaxPooling2D' ? 'maxPool' : 'avgPool',
        name,
        poolSize,
        strides: r.square('strides', poolSize),
        padding: r.padding(),
      };
    }
    case 'Flatten':
      channelsLast();
      return { kind: 'flatten', name };
    case 'Dropout':
      r.none(['noise_shape']);
      return { kind: 'dropout', name, rate: r.num('rate', NaN) };
    case 'BatchNormalization': {
      const last = rank === null ? [-1] : [-1, rank, [-1], [rank]];
      r.only('axis', last, 'Chorus normalizes the last axis (channels_last)');
      r.only('center', [true], 'Chorus builds it with beta');
      r.only('scale', [true], 'Chorus builds it with gamma');
      r.none([
        'beta_regularizer',
        'gamma_regularizer',
        'beta_constraint',
        'gamma_constraint',
        'virtual_batch_size',
        'adjustment',
      ]);
      r.only('renorm', [false], 'not built');
      for (const [key, init] of [
        ['beta_initializer', 'Zeros'],
        ['gamma_initializer', 'Ones'],
        ['moving_mean_initializer', 'Zeros'],
        ['moving_variance_initializer', 'Ones'],
      ] as const) {
        r.initIs(key, init, "Keras' default");
      }
      return { kind: 'batchNorm', name, momentum: r.num('momentum', 0.99), epsilon: r.num('epsilon', 0.001) };
    }
    case 'Activation':
      return { kind: 'activation', name, activation: r.activation() };
    case 'Reshape': {
      const t = r.config['target_shape'];
      if (!Array.isArray(t) || !t.every((d) => typeof d === 'number' && Number.isInteger(d))) {
        throw r.fail(`target_shape must be a list of whole numbers, got ${JSON.stringify(t ?? null)}`);
      }
      return { kind: 'reshape', name, targetShape: t as number[] };
    }
    default:
      throw r.fail(`Chorus cannot build this layer; it builds ${SUPPORTED_LAYER_CLASSES.join(', ')}`);
  }
}

function rankAfter(layer: ModelFileLayer, rank: number | null): number | null {
  if (layer.kind === 'flatten' || layer.kind === 'dense') return 1;
  if (layer.kind === 'conv2d' || layer.kind === 'maxPool' || layer.kind === 'avgPool') return 3;
  if (layer.kind === 'reshape') return layer.targetShape.length;
  return rank;
}

/** Softmax only at the end, and an output over the classes (the messages name the file's entries). */
function checkOutput(file: string, layers: ModelFileLayer[], sources: RawLayer[]): void {
  layers.forEach((layer, i) => {
    if (i < layers.length - 1 && 'activation' in layer && layer.activation === 'softmax') {
      throw fileError(
        file,
        `${describeRaw(sources[i] as RawLayer)}: softmax is only supported in the last layer`,
      );
    }
  });
  if (outputLayerIndex({ layers }) === null) {
    throw fileError(
      file,
      `${describeRaw(sources[sources.length - 1] as RawLayer)} cannot be the output: a model ends in ` +
        "Dense(classes, activation='softmax'), Dense(classes) (logits), or Dense(classes) → Activation('softmax')",
    );
  }
}

/**
 * Converts a parsed Keras `to_json()` / TF.js `toJSON()` / TF.js `model.json` into a ModelFile,
 * or throws a ModelError (`invalid-config`) naming the file and the entry. `fileName` is the name
 * the messages and the run show (the file's base name).
 */
export function importModelFile(fileName: string, value: Json): ImportedModelFile {
  const chain = readChain(fileName, value);
  const notes = [...chain.notes];
  let inputShape: number[] | null = null;
  const layers: ModelFileLayer[] = [];
  const sources: RawLayer[] = [];
  chain.layers.forEach((layer, i) => {
    if (layer.className === 'InputLayer') {
      if (i !== 0) throw fileError(fileName, `${describeRaw(layer)}: an InputLayer must come first`);
      if (layer.config['sparse'] === true || layer.config['ragged'] === true) {
        throw fileError(fileName, `${describeRaw(layer)}: sparse and ragged inputs are not supported`);
      }
      inputShape = declaredInput(fileName, layer);
      return;
    }
    if (i === 0) inputShape = declaredInput(fileName, layer);
    const rank =
      inputShape === null ? null : layers.reduce<number | null>((r, l) => rankAfter(l, r), inputShape.length);
    layers.push(convertLayer(fileName, layer, rank, notes));
    sources.push(layer);
  });
  if (layers.length === 0) throw fileError(fileName, 'the model has no layer besides its input');
  checkOutput(fileName, layers, sources);
  inputShape ??= shapeOf(fileName, 'build_input_shape', chain.buildInputShape, true);
  const parsed = ModelFileSchema.safeParse({
    fileName,
    name: chain.modelName.slice(0, 200),
    inputShape,
    layers,
  });
  if (!parsed.success) throw fileError(fileName, formatIssues(parsed.error));
  return { modelFile: parsed.data, notes };
}
