import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  countMemberParams,
  IncompatibleInputError,
  MODEL_DEFAULT_WIDTH,
  MODEL_NAMES,
  type ModelName,
} from '@chorus/protocol';
import type { ModelConfig } from '../config';
import { ModelError } from '../errors';
import { weightValues } from '../test-helpers';
import { buildModel, describeModels, modelSpec } from './registry';
import { inferShapes } from './spec';

// Keras model.summary figures of the same architectures, and the classic architectures' own counts.
const EXPECTED: Record<ModelName, { params: number; trainable: number }> = {
  mlp: { params: 47_410, trainable: 47_410 },
  'fashion-dnn': { params: 1_195_018, trainable: 1_195_018 },
  'fashion-small': { params: 79_510, trainable: 79_510 },
  'sign-cnn': { params: 264_049, trainable: 263_749 },
  lenet5: { params: 61_706, trainable: 61_706 },
  'small-cnn': { params: 420_739, trainable: 420_739 },
};

const trainableCount = (m: { trainableWeights: { shape: (number | null)[] }[] }): number =>
  m.trainableWeights.reduce((n, w) => n + w.shape.reduce<number>((a, b) => a * (b ?? 0), 1), 0);

function reference(name: ModelName): ModelConfig {
  const d = describeModels().find((m) => m.name === name);
  if (d === undefined) throw new Error(name);
  return { name, inputShape: d.referenceInputShape, numClasses: d.referenceClasses, seed: 1 };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('parameter counts', () => {
  it('describeModels lists every model with the reference counts', () => {
    const described = describeModels();
    expect(described.map((d) => d.name)).toEqual([...MODEL_NAMES]);
    for (const d of described) {
      expect({ name: d.name, params: d.params, trainable: d.trainableParams }).toEqual({
        name: d.name,
        params: EXPECTED[d.name].params,
        trainable: EXPECTED[d.name].trainable,
      });
    }
    expect(described.find((d) => d.name === 'sign-cnn')?.referenceClasses).toBe(24);
  });

  it.each([...MODEL_NAMES])('%s built in tfjs has the reference counts', (name) => {
    const model = buildModel(reference(name));
    try {
      expect(model.countParams()).toBe(EXPECTED[name].params);
      expect(trainableCount(model)).toBe(EXPECTED[name].trainable);
    } finally {
      model.dispose();
    }
  });

  it('the 28×28×1 MNIST shape gives the same dense counts as a flat 784 input', () => {
    const model = buildModel({ name: 'mlp', inputShape: [28, 28, 1], numClasses: 10, seed: 1 });
    expect(model.countParams()).toBe(47_410);
    expect(model.layers[0]?.getClassName()).toBe('Flatten');
    model.dispose();
  });

  it('sign-cnn flattens 400 features at 28×28×1 (Keras: 4×4×25)', () => {
    const report = inferShapes(modelSpec(reference('sign-cnn')));
    const spec = modelSpec(reference('sign-cnn'));
    const flattenAt = spec.layers.findIndex((l) => l.kind === 'flatten');
    expect(report.shapes[flattenAt]).toEqual([400]);
  });
});

describe('countMemberParams (@chorus/protocol, no tfjs) is what tfjs builds', () => {
  const shapes: Record<ModelName, number[][]> = {
    mlp: [[784], [28, 28, 1], [8, 8, 1]],
    'fashion-dnn': [[784], [8, 8, 1]],
    'fashion-small': [[784], [28, 28, 1]],
    'sign-cnn': [
      [28, 28, 1],
      [8, 8, 1],
    ],
    lenet5: [
      [28, 28, 1],
      [12, 12, 3],
    ],
    'small-cnn': [
      [28, 28, 1],
      [8, 8, 1],
    ],
  };
  const widths = [undefined, 1, 7, 33, 128];

  it.each([...MODEL_NAMES])('%s at widths 1–128 and several input shapes', (name) => {
    for (const inputShape of shapes[name]) {
      for (const width of widths) {
        const cfg: ModelConfig = {
          name,
          inputShape,
          numClasses: 7,
          seed: 1,
          ...(width !== undefined && { width }),
        };
        const counted = countMemberParams({ model: name, inputShape, numClasses: 7, width });
        const model = buildModel(cfg);
        try {
          expect(counted, JSON.stringify({ inputShape, width })).toBe(model.countParams());
          expect(counted).toBe(inferShapes(modelSpec(cfg)).params);
        } finally {
          model.dispose();
        }
      }
    }
  });

  it('gives the Keras figures at the reference shapes and default widths', () => {
    for (const name of MODEL_NAMES) {
      const { inputShape, numClasses } = reference(name);
      expect(countMemberParams({ model: name, inputShape, numClasses })).toBe(EXPECTED[name].params);
      // The width that names the model's default changes nothing.
      const width = MODEL_DEFAULT_WIDTH[name];
      expect(countMemberParams({ model: name, inputShape, numClasses, width })).toBe(EXPECTED[name].params);
    }
  });

  it('large widths: spec arithmetic and the protocol agree (a 27 M fashion-dnn is width 2,880)', () => {
    for (const name of MODEL_NAMES) {
      for (const width of [512, 2048, 8192]) {
        const cfg: ModelConfig = { ...reference(name), width };
        expect(
          countMemberParams({ model: name, inputShape: cfg.inputShape, numClasses: cfg.numClasses, width }),
        ).toBe(inferShapes(modelSpec(cfg)).params);
      }
    }
    expect(countMemberParams({ model: 'fashion-dnn', inputShape: [784], numClasses: 10, width: 2880 })).toBe(
      784 * 2880 + 2880 + 3 * (2880 * 2880 + 2880) + 2880 * 10 + 10,
    );
  });

  it('an input the model cannot take is an IncompatibleInputError, as in tfjs', () => {
    expect(() => countMemberParams({ model: 'lenet5', inputShape: [8, 8, 1], numClasses: 10 })).toThrow(
      IncompatibleInputError,
    );
    expect(() => modelSpec({ ...reference('lenet5'), inputShape: [8, 8, 1] })).toThrow(ModelError);
    expect(() => countMemberParams({ model: 'sign-cnn', inputShape: [784], numClasses: 10 })).toThrow(
      IncompatibleInputError,
    );
  });
});

describe('compilation', () => {
  it('compiles with categorical cross-entropy, accuracy and the chosen optimizer', () => {
    const adam = buildModel({ ...reference('mlp'), learningRate: 0.01 });
    expect(adam.loss).toBe('categoricalCrossentropy');
    expect(adam.optimizer.getClassName()).toBe('Adam');
    expect(adam.optimizer.getConfig()['learningRate']).toBe(0.01);
    const sgd = buildModel({ ...reference('fashion-small'), optimizer: 'sgd' });
    expect(sgd.optimizer.getClassName()).toBe('SGD');
    expect(sgd.optimizer.getConfig()['learningRate']).toBe(0.001);
    adam.dispose();
    sgd.dispose();
  });
});

describe('seeds', () => {
  it('same seed → identical initial weights; different seed → different', () => {
    for (const name of ['mlp', 'sign-cnn'] as const) {
      const cfg: ModelConfig = { ...reference(name), inputShape: name === 'mlp' ? [784] : [8, 8, 1] };
      const a = buildModel({ ...cfg, seed: 42 });
      const b = buildModel({ ...cfg, seed: 42 });
      const c = buildModel({ ...cfg, seed: 43 });
      const wa = weightValues(a);
      const wb = weightValues(b);
      const wc = weightValues(c);
      expect([...wa.keys()]).toEqual([...wb.keys()]);
      for (const [key, values] of wa) {
        expect(wb.get(key)).toEqual(values);
        if (key.endsWith('/kernel')) expect(wc.get(key)).not.toEqual(values);
      }
      // Different layers of one member do not share a stream.
      expect(wa.get('hidden2/kernel') ?? wa.get('conv2/kernel')).not.toEqual(
        wa.get('hidden3/kernel') ?? wa.get('conv3/kernel'),
      );
      for (const m of [a, b, c]) m.dispose();
    }
  });

  it('initial weights have the expected scale (he_normal for the relu mlp)', () => {
    const model = buildModel({ ...reference('mlp'), seed: 5 });
    const w = model.getLayer('hidden1').getWeights()[0] as tf.Tensor;
    const values = Array.from(w.dataSync());
    const std = Math.sqrt(values.reduce((s, v) => s + v * v, 0) / values.length);
    // he_normal: truncated normal, stddev sqrt(2 / 784) ≈ 0.0505 (truncation leaves ≈ 0.88 of it).
    expect(std).toBeGreaterThan(0.035);
    expect(std).toBeLessThan(0.06);
    model.dispose();
  });
});

describe('overrides', () => {
  it('width is the units of the widest hidden Dense layer; the other hidden layers scale with it, not the output', () => {
    const model = buildModel({ ...reference('mlp'), width: 100 });
    const units = model.layers.filter((l) => l.getClassName() === 'Dense').map((l) => l.getConfig()['units']);
    expect(units).toEqual([100, 100, 100, 100, 10]);
    const cnn = modelSpec({ ...reference('sign-cnn'), width: 256 });
    expect(
      cnn.layers.filter((l) => l.kind === 'conv2d').map((l) => (l.kind === 'conv2d' ? l.filters : 0)),
    ).toEqual([38, 25, 13]);
    const lenet = modelSpec({ ...reference('lenet5'), width: 240 });
    expect(lenet.layers.flatMap((l) => (l.kind === 'dense' ? [l.units] : []))).toEqual([240, 168, 10]);
    expect(lenet.layers.flatMap((l) => (l.kind === 'conv2d' ? [l.filters] : []))).toEqual([12, 32]);
    model.dispose();
  });

  it('dropout replaces rates, adds layers to dense models without dropout, and 0 removes them', () => {
    const rates = (cfg: ModelConfig) =>
      modelSpec(cfg).layers.flatMap((l) => (l.kind === 'dropout' ? [l.rate] : []));
    expect(rates(reference('fashion-dnn'))).toEqual([0.3, 0.3, 0.3, 0.3]);
    expect(rates({ ...reference('fashion-dnn'), dropout: 0.5 })).toEqual([0.5, 0.5, 0.5, 0.5]);
    expect(rates({ ...reference('fashion-dnn'), dropout: 0 })).toEqual([]);
    expect(rates(reference('sign-cnn'))).toEqual([0.2, 0.3]);
    expect(rates(reference('mlp'))).toEqual([]);
    expect(rates({ ...reference('mlp'), dropout: 0.25 })).toEqual([0.25, 0.25, 0.25, 0.25]);
    const model = buildModel({ ...reference('fashion-dnn'), dropout: 0 });
    expect(model.countParams()).toBe(1_195_018);
    model.dispose();
  });

  it('activation applies to hidden layers only', () => {
    const model = buildModel({ ...reference('lenet5'), activation: 'relu' });
    const acts = model.layers
      .filter((l) => ['Dense', 'Conv2D'].includes(l.getClassName()))
      .map((l) => l.getConfig()['activation']);
    expect(acts).toEqual(['relu', 'relu', 'relu', 'relu', 'linear']);
    expect(model.layers[model.layers.length - 1]?.getConfig()['activation']).toBe('softmax');
    model.dispose();
  });

  it('rejects bad overrides with invalid-config', () => {
    const bad: Partial<ModelConfig>[] = [
      { width: 0 },
      { width: 1.5 },
      { dropout: 1 },
      { dropout: -0.1 },
      { learningRate: 0 },
      { seed: 1.5 },
      { numClasses: 1 },
      { activation: 'gelu' as 'relu' },
      { optimizer: 'rmsprop' as 'adam' },
      { name: 'resnet' as 'mlp' },
    ];
    for (const override of bad) {
      expect(() => modelSpec({ ...reference('mlp'), ...override }), JSON.stringify(override)).toThrow(
        ModelError,
      );
    }
  });
});

describe('input shapes', () => {
  it('dense models accept any input shape', () => {
    for (const inputShape of [[8, 8, 1], [64], [3, 5]]) {
      const model = buildModel({ name: 'fashion-small', inputShape, numClasses: 10, seed: 1 });
      expect(model.outputs[0]?.shape).toEqual([null, 10]);
      model.dispose();
    }
  });

  it('sign-cnn and small-cnn fit 8×8 digits', () => {
    for (const name of ['sign-cnn', 'small-cnn'] as const) {
      const model = buildModel({ name, inputShape: [8, 8, 1], numClasses: 10, seed: 1 });
      const out = tf.tidy(() => (model.predict(tf.zeros([2, 8, 8, 1])) as tf.Tensor).shape);
      expect(out).toEqual([2, 10]);
      model.dispose();
    }
  });

  it('lenet5 rejects 8×8 digits, naming the layer that does not fit', () => {
    const cfg: ModelConfig = { name: 'lenet5', inputShape: [8, 8, 1], numClasses: 10, seed: 1 };
    expect(() => buildModel(cfg)).toThrow(/too small.*conv2/);
    try {
      modelSpec(cfg);
    } catch (e) {
      expect((e as ModelError).code).toBe('incompatible-input');
    }
    expect(() => modelSpec({ ...cfg, inputShape: [12, 12, 1] })).not.toThrow();
    expect(() => modelSpec({ ...cfg, inputShape: [11, 11, 1] })).toThrow(ModelError);
  });

  it('convnets need image input', () => {
    expect(() => modelSpec({ name: 'sign-cnn', inputShape: [784], numClasses: 24, seed: 1 })).toThrow(
      /needs image input \[height, width, channels\]/,
    );
  });
});
