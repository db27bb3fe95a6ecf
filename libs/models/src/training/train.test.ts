import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backends/select';
import { ModelError } from '../errors';
import { buildModel } from '../models/registry';
import { batchPlan, maxAbsDiff, syntheticData, weightValues } from '../test-helpers';
import type { BatchMetrics } from './train';
import { trainOnBatches } from './train';
import { baseDropoutSeed, fillDropoutMask, stepSeed, withStepSeeds } from './dropout';

const data = syntheticData(320, [8, 8, 1], 4, 1);
const small = { inputShape: [8, 8, 1], numClasses: 4 };

beforeAll(async () => {
  await selectBackend('cpu');
});

describe('trainOnBatches (cpu)', () => {
  it('learns a separable problem and reports running metrics', async () => {
    const model = buildModel({ name: 'mlp', ...small, seed: 1 });
    const reports: BatchMetrics[] = [];
    const result = await trainOnBatches({
      model,
      data,
      batches: batchPlan(data.count, 32, 6),
      metricsEvery: 10,
      onBatch: (m) => {
        reports.push(m);
      },
    });
    expect(result.steps).toBe(60);
    expect(result.samples).toBe(6 * 320);
    expect(reports.map((r) => r.step)).toEqual([10, 20, 30, 40, 50, 60]);
    const first = reports[0] as BatchMetrics;
    const last = reports[reports.length - 1] as BatchMetrics;
    expect(last.loss).toBeLessThan(first.loss);
    expect(last.accuracy).toBeGreaterThan(0.95);
    expect(last.samples).toBe(result.samples);
    expect(reports.every((r) => r.samplesPerSecond > 0 && Number.isFinite(r.loss))).toBe(true);
    expect(result.accuracy).toBeGreaterThan(0.5);
    model.dispose();
  });

  it('reports after the last step and counts steps across calls', async () => {
    const model = buildModel({ name: 'fashion-small', ...small, seed: 2 });
    const steps: number[] = [];
    const onBatch = (m: BatchMetrics) => {
      steps.push(m.step);
    };
    await trainOnBatches({ model, data, batches: batchPlan(data.count, 32), metricsEvery: 4, onBatch });
    await trainOnBatches({ model, data, batches: batchPlan(data.count, 100), metricsEvery: 3, onBatch });
    expect(steps).toEqual([4, 8, 10, 13, 14]);
    model.dispose();
  });

  it('leaves no tensors behind (dense path with dropout, autodiff path with BatchNorm)', async () => {
    const dense = buildModel({ name: 'fashion-dnn', ...small, seed: 3, width: 51 });
    const cnn = buildModel({ name: 'sign-cnn', ...small, seed: 3, width: 102 });
    for (const model of [dense, cnn]) {
      const before = tf.memory().numTensors;
      await trainOnBatches({ model, data, batches: batchPlan(64, 16, 2) });
      expect(tf.memory().numTensors).toBe(before);
    }
    dense.dispose();
    cnn.dispose();
  });

  it('is reproducible: same seed and batches → identical weights, dropout included', async () => {
    for (const cfg of [
      { name: 'fashion-dnn' as const, width: 51 },
      { name: 'sign-cnn' as const, width: 102 },
    ]) {
      const runs = [];
      for (let k = 0; k < 2; k++) {
        const model = buildModel({ ...cfg, ...small, seed: 9 });
        await trainOnBatches({ model, data, batches: batchPlan(96, 16, 1, 5) });
        runs.push(weightValues(model));
        model.dispose();
      }
      const [a, b] = runs as [Map<string, Float32Array>, Map<string, Float32Array>];
      for (const [name, values] of a) expect(b.get(name), name).toEqual(values);
    }
  });

  it('dropout masks change from step to step (a seeded tfjs Dropout alone repeats its mask)', () => {
    const model = buildModel({ name: 'fashion-small', ...small, seed: 4, dropout: 0.5 });
    const layer = model.getLayer('dropout1');
    const seeds = new Map([[layer, baseDropoutSeed(layer)]]);
    const ones = tf.ones([4, 100]);
    const maskAt = (step: number) =>
      withStepSeeds([layer], seeds, step, () =>
        tf.tidy(() => (layer.apply(ones, { training: true }) as tf.Tensor).dataSync()),
      );
    expect(maskAt(0)).toEqual(maskAt(0));
    expect(maskAt(0)).not.toEqual(maskAt(1));
    expect(layer.getConfig()['seed']).toBe(baseDropoutSeed(layer));
    const fast = (step: number) =>
      fillDropoutMask(new Float32Array(400), 0.5, stepSeed(seeds.get(layer) as number, step));
    expect(fast(0)).not.toEqual(fast(1));
    ones.dispose();
    model.dispose();
  });

  it('the dense fast path and the autodiff path train alike', async () => {
    const results = [];
    for (const engine of ['auto', 'autodiff'] as const) {
      const model = buildModel({ name: 'mlp', ...small, seed: 6, activation: 'tanh' });
      await trainOnBatches({ model, data, batches: batchPlan(128, 16, 1), engine });
      results.push(weightValues(model));
      model.dispose();
    }
    const [a, b] = results as [Map<string, Float32Array>, Map<string, Float32Array>];
    for (const [name, values] of a)
      expect(maxAbsDiff(values, b.get(name) as Float32Array), name).toBeLessThan(1e-4);
  });

  it('trains a convnet through the autodiff path (BatchNorm statistics move)', async () => {
    const model = buildModel({ name: 'sign-cnn', ...small, seed: 8, width: 102 });
    const before = weightValues(model).get('bn1/moving_mean') as Float32Array;
    const r = await trainOnBatches({ model, data, batches: batchPlan(64, 16, 1) });
    expect(Number.isFinite(r.loss)).toBe(true);
    expect(weightValues(model).get('bn1/moving_mean')).not.toEqual(before);
    model.dispose();
  });

  it('trains any compiled tfjs model (functional, softmax inside the last Dense) via model.apply', async () => {
    const input = tfl.input({ shape: [8, 8, 1] });
    const flat = tfl.layers.flatten().apply(input) as tfl.SymbolicTensor;
    const hidden = tfl.layers.dense({ units: 16, activation: 'relu' }).apply(flat) as tfl.SymbolicTensor;
    const output = tfl.layers.dense({ units: 4, activation: 'softmax' }).apply(hidden) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: output });
    model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
    const before = tf.memory().numTensors;
    const first = await trainOnBatches({ model, data, batches: batchPlan(data.count, 32, 1) });
    const later = await trainOnBatches({ model, data, batches: batchPlan(data.count, 32, 2) });
    expect(later.loss).toBeLessThan(first.loss);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('accepts async batch sources and lets timers run while training', async () => {
    const model = buildModel({ name: 'mlp', ...small, seed: 7 });
    async function* source() {
      for (const b of batchPlan(data.count, 8, 4)) yield b;
    }
    let beats = 0;
    const timer = setInterval(() => beats++, 2);
    const started = performance.now();
    try {
      await trainOnBatches({ model, data, batches: source() });
    } finally {
      clearInterval(timer);
    }
    const elapsed = performance.now() - started;
    // The loop yields at least every 20 ms, so a 2 ms heartbeat fires at least once per 20 ms or so.
    expect(beats).toBeGreaterThanOrEqual(Math.floor(elapsed / 40));
    expect(beats).toBeGreaterThan(0);
    model.dispose();
  });

  it('stops when aborted, with the signal reason, leaving no tensors', async () => {
    const model = buildModel({ name: 'mlp', ...small, seed: 7 });
    const before = tf.memory().numTensors;
    const controller = new AbortController();
    let reports = 0;
    await expect(
      trainOnBatches({
        model,
        data,
        batches: batchPlan(data.count, 16, 3),
        metricsEvery: 2,
        signal: controller.signal,
        onBatch: () => {
          if (++reports === 2) controller.abort(new Error('cancelled by test'));
        },
      }),
    ).rejects.toThrow('cancelled by test');
    expect(reports).toBe(2);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('rejects malformed data and batches with invalid-data', async () => {
    const model = buildModel({ name: 'mlp', ...small, seed: 7 });
    const before = tf.memory().numTensors;
    const bad = [
      { data, batches: [Int32Array.of(0, 1, 320)] },
      { data: { ...data, numClasses: 5 }, batches: [Int32Array.of(0)] },
      { data: { ...data, inputShape: [7, 8, 1] }, batches: [Int32Array.of(0)] },
      { data: { ...data, y: Int32Array.from(data.y, (v) => v + 1) }, batches: [Int32Array.of(0)] },
    ];
    for (const b of bad) {
      const error = await trainOnBatches({ model, ...b }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ModelError);
      expect((error as ModelError).code).toBe('invalid-data');
    }
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});
