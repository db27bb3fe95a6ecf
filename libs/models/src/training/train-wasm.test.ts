import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backends/select';
import { buildModel } from '../models/registry';
import { batchPlan, maxAbsDiff, syntheticData, weightValues } from '../test-helpers';
import { trainOnBatches } from './train';

const data = syntheticData(320, [8, 8, 1], 4, 1);
const small = { inputShape: [8, 8, 1], numClasses: 4 };

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('trainOnBatches (wasm)', () => {
  it('learns, leaving no tensors behind', async () => {
    const model = buildModel({ name: 'fashion-dnn', ...small, seed: 1, width: 51, learningRate: 0.005 });
    const before = tf.memory().numTensors;
    const first = await trainOnBatches({ model, data, batches: batchPlan(data.count, 32, 1) });
    const later = await trainOnBatches({ model, data, batches: batchPlan(data.count, 32, 4) });
    expect(tf.memory().numTensors).toBe(before);
    expect(later.loss).toBeLessThan(first.loss);
    expect(later.accuracy).toBeGreaterThan(0.8); // mean over the call's 4 epochs
    model.dispose();
  });

  it('matches the cpu-verified autodiff path', async () => {
    const results = [];
    for (const engine of ['auto', 'autodiff'] as const) {
      const model = buildModel({
        name: 'mlp',
        ...small,
        seed: 6,
        activation: 'sigmoid',
        optimizer: 'sgd',
        learningRate: 0.5,
      });
      await trainOnBatches({ model, data, batches: batchPlan(128, 16, 1), engine });
      results.push(weightValues(model));
      model.dispose();
    }
    const [a, b] = results as [Map<string, Float32Array>, Map<string, Float32Array>];
    for (const [name, values] of a)
      expect(maxAbsDiff(values, b.get(name) as Float32Array), name).toBeLessThan(1e-4);
  });

  it('trains a convnet with BatchNorm and dropout through the Chorus kernels', async () => {
    const model = buildModel({ name: 'sign-cnn', ...small, seed: 2, width: 154 });
    const before = tf.memory().numTensors;
    const r = await trainOnBatches({ model, data, batches: batchPlan(data.count, 32, 3) });
    expect(tf.memory().numTensors).toBe(before);
    expect(Number.isFinite(r.loss)).toBe(true);
    expect(r.accuracy).toBeGreaterThan(0.5);
    model.dispose();
  });
});
