import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { countMemberParams, summarizeModelFile, type ModelFile } from '@chorus/protocol';
import { ModelError } from '../errors';
import { planDense } from '../training/dense-plan';
import { importModelFile } from './keras-import';
import type { Json } from './keras-graph';
import { buildModel, modelSpec } from './registry';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// What Keras 2.13's `model.to_json()` writes for
//   Sequential([Input((784,)), Dense(50, 'relu', kernel_initializer='he_normal') ×4, Dense(10, 'softmax')])
// i.e. the built-in mlp.
const kerasDense = (name: string, units: number, activation: string, init: string): Json => ({
  class_name: 'Dense',
  config: {
    name,
    trainable: true,
    dtype: 'float32',
    units,
    activation,
    use_bias: true,
    kernel_initializer: { class_name: init, config: { seed: null } },
    bias_initializer: { class_name: 'Zeros', config: {} },
    kernel_regularizer: null,
    bias_regularizer: null,
    activity_regularizer: null,
    kernel_constraint: null,
    bias_constraint: null,
  },
});
const KERAS2_MLP: Json = {
  class_name: 'Sequential',
  config: {
    name: 'sequential',
    layers: [
      {
        class_name: 'InputLayer',
        config: {
          batch_input_shape: [null, 784],
          dtype: 'float32',
          sparse: false,
          ragged: false,
          name: 'input_1',
        },
      },
      ...[1, 2, 3, 4].map((i) => kerasDense(`hidden${i}`, 50, 'relu', 'HeNormal')),
      kerasDense('output', 10, 'softmax', 'GlorotUniform'),
    ],
  },
  keras_version: '2.13.1',
  backend: 'tensorflow',
};

const shapesOf = (m: tfl.LayersModel) => m.layers.map((l) => l.outputShape);
const weightShapes = (m: tfl.LayersModel) => m.weights.map((w) => w.shape);
const readExample = (name: string): Json =>
  JSON.parse(readFileSync(new URL(`../../../../docs/model-files/${name}`, import.meta.url), 'utf8')) as Json;

function refusal(value: Json, file = 'model.json'): string {
  try {
    importModelFile(file, value);
  } catch (e) {
    expect(e).toBeInstanceOf(ModelError);
    return (e as Error).message;
  }
  throw new Error('importModelFile accepted the file');
}

describe('importModelFile', () => {
  it('a Keras 2 to_json() of the mlp builds the layer shapes and weights of the built-in mlp', () => {
    const { modelFile, notes } = importModelFile('mlp.json', KERAS2_MLP);
    expect(notes).toEqual([]);
    expect(modelFile.inputShape).toEqual([784]);
    const fromFile = buildModel({ name: 'mlp', modelFile, inputShape: [784], numClasses: 10, seed: 3 });
    const builtIn = buildModel({ name: 'mlp', inputShape: [784], numClasses: 10, seed: 3 });
    try {
      expect(shapesOf(fromFile)).toEqual(shapesOf(builtIn));
      expect(weightShapes(fromFile)).toEqual(weightShapes(builtIn));
      expect(fromFile.countParams()).toBe(47_410);
      // Same layer names and seeds: the same initial weights as the built-in member.
      expect(fromFile.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(
        builtIn.getWeights().map((w) => Array.from(w.dataSync())),
      );
      // Dense models take the fast host training path.
      expect(planDense(fromFile)).not.toBeNull();
      expect(countMemberParams({ model: 'mlp', modelFile, inputShape: [784], numClasses: 10 })).toBe(47_410);
    } finally {
      fromFile.dispose();
      builtIn.dispose();
    }
  });

  it('a Keras 3 LeNet-5 builds the shapes of the built-in lenet5', () => {
    const conv = (name: string, filters: number, padding: string) => ({
      module: 'keras.layers',
      class_name: 'Conv2D',
      config: {
        name,
        trainable: true,
        dtype: {
          module: 'keras',
          class_name: 'DTypePolicy',
          config: { name: 'float32' },
          registered_name: null,
        },
        filters,
        kernel_size: [5, 5],
        strides: [1, 1],
        padding,
        data_format: 'channels_last',
        dilation_rate: [1, 1],
        groups: 1,
        activation: 'tanh',
        use_bias: true,
        kernel_initializer: {
          module: 'keras.initializers',
          class_name: 'GlorotUniform',
          config: { seed: null },
          registered_name: null,
        },
        bias_initializer: {
          module: 'keras.initializers',
          class_name: 'Zeros',
          config: {},
          registered_name: null,
        },
        kernel_regularizer: null,
        bias_regularizer: null,
        activity_regularizer: null,
        kernel_constraint: null,
        bias_constraint: null,
      },
      registered_name: null,
    });
    const pool = (name: string) => ({
      module: 'keras.layers',
      class_name: 'AveragePooling2D',
      config: {
        name,
        trainable: true,
        pool_size: [2, 2],
        padding: 'valid',
        strides: [2, 2],
        data_format: 'channels_last',
      },
      registered_name: null,
    });
    const dense = (name: string, units: number, activation: string) => ({
      module: 'keras.layers',
      class_name: 'Dense',
      config: {
        name,
        units,
        activation,
        use_bias: true,
        kernel_initializer: {
          module: 'keras.initializers',
          class_name: 'GlorotUniform',
          config: { seed: 7 },
          registered_name: null,
        },
      },
      registered_name: null,
    });
    const lenet: Json = {
      module: 'keras',
      class_name: 'Sequential',
      config: {
        name: 'lenet',
        trainable: true,
        layers: [
          {
            module: 'keras.layers',
            class_name: 'InputLayer',
            config: { batch_shape: [null, 28, 28, 1], dtype: 'float32', name: 'input_layer' },
            registered_name: null,
          },
          conv('conv1', 6, 'same'),
          pool('pool1'),
          conv('conv2', 16, 'valid'),
          pool('pool2'),
          {
            module: 'keras.layers',
            class_name: 'Flatten',
            config: { name: 'flatten', data_format: 'channels_last' },
            registered_name: null,
          },
          dense('dense1', 120, 'tanh'),
          dense('dense2', 84, 'tanh'),
          dense('output', 10, 'softmax'),
        ],
        build_input_shape: [null, 28, 28, 1],
      },
      registered_name: null,
    };
    const { modelFile, notes } = importModelFile('lenet.json', lenet);
    expect(notes).toHaveLength(3); // three initializer seeds replaced by the member's
    const fromFile = buildModel({ name: 'mlp', modelFile, inputShape: [28, 28, 1], numClasses: 10, seed: 1 });
    const builtIn = buildModel({ name: 'lenet5', inputShape: [28, 28, 1], numClasses: 10, seed: 1 });
    try {
      expect(shapesOf(fromFile)).toEqual(shapesOf(builtIn));
      expect(fromFile.countParams()).toBe(61_706);
    } finally {
      fromFile.dispose();
      builtIn.dispose();
    }
  });

  it("reads TF.js' own toJSON() and a model.json's topology (its weights are read apart)", () => {
    const model = tfl.sequential({
      layers: [
        tfl.layers.conv2d({
          inputShape: [8, 8, 1],
          filters: 4,
          kernelSize: 3,
          activation: 'relu',
          name: 'c',
        }),
        tfl.layers.maxPooling2d({ poolSize: 2, name: 'p' }),
        tfl.layers.flatten({ name: 'f' }),
        tfl.layers.dense({ units: 4, activation: 'softmax', name: 'out' }),
      ],
    });
    const text = model.toJSON() as string; // tfjs returns the JSON as a string
    const direct = importModelFile('tfjs.json', text);
    const wrapped = importModelFile('model.json', {
      format: 'layers-model',
      modelTopology: model.toJSON(null, false) as unknown as Json,
      weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: [] }],
    });
    expect(direct.modelFile.layers).toEqual(wrapped.modelFile.layers);
    expect(wrapped.notes.join('\n')).not.toMatch(/weightsManifest/);
    const summary = summarizeModelFile(direct.modelFile, [8, 8, 1], 4);
    expect(summary.params).toBe(model.countParams());
    expect(summary.rows.map((r) => r.outputShape)).toEqual(
      model.layers.map((l) => (l.outputShape as number[]).slice(1)),
    );
    model.dispose();
  });

  it('the example files build; the digits mlp flattens 8×8×1 digits into its 64 inputs', () => {
    const mlp = importModelFile('digits-mlp.keras2.json', readExample('digits-mlp.keras2.json')).modelFile;
    const summary = summarizeModelFile(mlp, [8, 8, 1], 10);
    expect(summary.flattensInput).toBe(true);
    // 64·64+64 + 32·64+32 + 10·32+10
    expect(summary.params).toBe(4160 + 2080 + 330);
    const cnn = importModelFile('digits-cnn.keras3.json', readExample('digits-cnn.keras3.json')).modelFile;
    const built = buildModel({ name: 'mlp', modelFile: cnn, inputShape: [8, 8, 1], numClasses: 10, seed: 1 });
    // conv 3·3·1·16+16, BN 4·16 (2·16 trainable), dense 256·32+32, dense 32·10+10
    expect(built.countParams()).toBe(160 + 64 + 8224 + 330);
    expect(summarizeModelFile(cnn, [8, 8, 1], 10).trainableParams).toBe(160 + 32 + 8224 + 330);
    built.dispose();
  });

  it('reads a functional chain (Keras 2 and Keras 3 node formats) like the Sequential', () => {
    const k2 = {
      class_name: 'Functional',
      config: {
        name: 'model',
        layers: [
          {
            class_name: 'InputLayer',
            name: 'x',
            config: { batch_input_shape: [null, 784], name: 'x' },
            inbound_nodes: [],
          },
          {
            ...(kerasDense('h', 50, 'relu', 'HeNormal') as object),
            name: 'h',
            inbound_nodes: [[['x', 0, 0, {}]]],
          },
          {
            ...(kerasDense('out', 10, 'softmax', 'GlorotUniform') as object),
            name: 'out',
            inbound_nodes: [[['h', 0, 0, {}]]],
          },
        ],
        input_layers: [['x', 0, 0]],
        output_layers: [['out', 0, 0]],
      },
    } as Json;
    const tensor = (from: string) => ({
      class_name: '__keras_tensor__',
      config: { shape: [null, 1], dtype: 'float32', keras_history: [from, 0, 0] },
    });
    const k3 = {
      module: 'keras.src.models.functional',
      class_name: 'Functional',
      config: {
        name: 'model',
        layers: [
          // Listed out of order: the chain is followed through the nodes.
          {
            ...(kerasDense('out', 10, 'softmax', 'GlorotUniform') as object),
            name: 'out',
            inbound_nodes: [{ args: [tensor('h')], kwargs: {} }],
          },
          {
            class_name: 'InputLayer',
            name: 'x',
            config: { batch_shape: [null, 784], name: 'x' },
            inbound_nodes: [],
          },
          {
            ...(kerasDense('h', 50, 'relu', 'HeNormal') as object),
            name: 'h',
            inbound_nodes: [{ args: [tensor('x')], kwargs: {} }],
          },
        ],
        input_layers: ['x', 0, 0],
        output_layers: ['out', 0, 0],
      },
    } as Json;
    const expected = [
      { kind: 'dense', name: 'h', units: 50, activation: 'relu', init: 'heNormal' },
      { kind: 'dense', name: 'out', units: 10, activation: 'softmax', init: 'glorotUniform' },
    ];
    expect(importModelFile('k2.json', k2).modelFile.layers).toEqual(expected);
    expect(importModelFile('k3.json', k3).modelFile.layers).toEqual(expected);
  });
});

describe('importModelFile refuses, naming the file and the entry', () => {
  const withLayer = (layer: Json, at = 2): Json => {
    const copy = structuredClone(KERAS2_MLP) as { config: { layers: Json[] } };
    copy.config.layers.splice(at, 0, layer);
    return copy as unknown as Json;
  };

  it('an unknown layer, with its index, name and class', () => {
    expect(refusal(withLayer({ class_name: 'LSTM', config: { name: 'lstm', units: 8 } }), 'rnn.json')).toBe(
      "model file rnn.json: layers[2] 'lstm' (LSTM): Chorus cannot build this layer; it builds InputLayer, Dense, " +
        'Conv2D, MaxPooling2D, AveragePooling2D, Flatten, Dropout, BatchNormalization, Activation, Reshape',
    );
    expect(
      refusal(withLayer({ class_name: 'Lambda', config: { name: 'l', function: ['4wEA…', null, null] } })),
    ).toMatch(/layers\[2\] 'l' \(Lambda\): Chorus cannot build this layer/);
  });

  it('settings Chorus would not build faithfully', () => {
    const dense = (extra: Record<string, Json>) =>
      withLayer({ class_name: 'Dense', config: { name: 'd', units: 50, activation: 'relu', ...extra } });
    expect(refusal(dense({ kernel_regularizer: { class_name: 'L2', config: { l2: 0.01 } } }))).toMatch(
      /layers\[2\] 'd' \(Dense\): kernel_regularizer is not supported/,
    );
    expect(refusal(dense({ activation: 'elu' }))).toMatch(/'d' \(Dense\): activation "elu" is not supported/);
    expect(refusal(dense({ use_bias: false }))).toMatch(/use_bias false is not supported/);
    expect(refusal(dense({ activation: 'softmax' }))).toMatch(
      /'d' \(Dense\): softmax is only supported in the last layer/,
    );
    expect(
      refusal(withLayer({ class_name: 'Conv2D', config: { name: 'c', filters: 2, kernel_size: [3, 1] } })),
    ).toMatch(/'c' \(Conv2D\): kernel_size must be one whole number or a square pair/);
  });

  it('a functional graph with branches', () => {
    const layer = (name: string, from: string[], cls = 'Dense') => ({
      class_name: cls,
      name,
      config: { name, units: 10, activation: 'softmax' },
      inbound_nodes: from.length === 0 ? [] : [from.map((f) => [f, 0, 0, {}])],
    });
    const graph = {
      class_name: 'Functional',
      config: {
        name: 'resnetish',
        layers: [
          {
            class_name: 'InputLayer',
            name: 'x',
            config: { name: 'x', batch_input_shape: [null, 10] },
            inbound_nodes: [],
          },
          layer('a', ['x']),
          layer('b', ['x']),
          layer('sum', ['a', 'b'], 'Add'),
        ],
        input_layers: [['x', 0, 0]],
        output_layers: [['sum', 0, 0]],
      },
    } as Json;
    expect(refusal(graph, 'branchy.json')).toMatch(
      /^model file branchy\.json: layers\[3\] 'sum' \(Add\) takes 2 inputs \('a', 'b'\): the graph branches/,
    );
  });

  it('an output that is not over the classes', () => {
    const copy = structuredClone(KERAS2_MLP) as { config: { layers: Json[] } };
    copy.config.layers.pop();
    expect(refusal(copy as unknown as Json)).toMatch(/layers\[4\] 'hidden4' \(Dense\) cannot be the output/);
  });
});

describe('a model file against a dataset', () => {
  const file = (): ModelFile => importModelFile('mlp.json', KERAS2_MLP).modelFile;

  it('says which input shape does not fit', () => {
    expect(() => summarizeModelFile(file(), [8, 8, 1], 10)).toThrow(
      "model file mlp.json: its input shape [784] does not fit the dataset's samples [8, 8, 1] (64 values)",
    );
    expect(() =>
      modelSpec({ name: 'mlp', modelFile: file(), inputShape: [8, 8, 1], numClasses: 10, seed: 1 }),
    ).toThrow(ModelError);
  });

  it('says which layer has the wrong class count', () => {
    expect(() => summarizeModelFile(file(), [784], 4)).toThrow(
      "model file mlp.json: layer 4 'output' (Dense) has 10 units, the output over the classes; the dataset has 4 classes",
    );
  });

  it('says which layer does not fit, layer by layer', () => {
    const cnn = importModelFile('digits-cnn.keras3.json', readExample('digits-cnn.keras3.json')).modelFile;
    const tiny = { ...cnn, inputShape: null };
    expect(() => summarizeModelFile(tiny, [1, 1, 1], 10)).toThrow(
      "model file digits-cnn.keras3.json: layer 3 'max_pooling2d' (MaxPooling2D) gets [1, 1, 16]: too small for its 2×2 window with valid padding",
    );
    expect(() => summarizeModelFile(tiny, [64], 10)).toThrow(
      /layer 0 'conv2d' \(Conv2D\) gets \[64\]: it needs images/,
    );
  });

  it('applies the dropout override to the file’s Dropout layers; refuses width and activation', () => {
    const cnn = importModelFile('digits-cnn.keras3.json', readExample('digits-cnn.keras3.json')).modelFile;
    const base = { name: 'mlp' as const, modelFile: cnn, inputShape: [8, 8, 1], numClasses: 10, seed: 1 };
    const rates = (s: ReturnType<typeof modelSpec>) =>
      s.layers.flatMap((l) => (l.kind === 'dropout' ? [l.rate] : []));
    expect(rates(modelSpec(base))).toEqual([0.25]);
    expect(rates(modelSpec({ ...base, dropout: 0.5 }))).toEqual([0.5]);
    expect(rates(modelSpec({ ...base, dropout: 0 }))).toEqual([]);
    expect(() => modelSpec({ ...base, width: 8 })).toThrow(
      /the width override does not apply to model file digits-cnn/,
    );
    expect(() => modelSpec({ ...base, activation: 'tanh' })).toThrow(/activation override does not apply/);
  });
});
