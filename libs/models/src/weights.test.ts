import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from './backends/select';
import { ModelError } from './errors';
import { buildModel } from './models/registry';
import { predictProbabilities } from './predict';
import { batchPlan, syntheticData } from './test-helpers';
import { trainOnBatches } from './training/train';
import { loadWeights, saveWeights } from './weights';

const data = syntheticData(96, [8, 8, 1], 4, 3);
const small = { inputShape: [8, 8, 1], numClasses: 4 };

beforeAll(async () => {
  await selectBackend('cpu');
});

describe('predictProbabilities', () => {
  it('returns N×C softmax rows in batches, in inference mode, leaving no tensors', async () => {
    const model = buildModel({ name: 'fashion-dnn', ...small, seed: 1, width: 26 });
    const before = tf.memory().numTensors;
    const p = await predictProbabilities(model, data.x, data.inputShape, 10);
    expect(tf.memory().numTensors).toBe(before);
    expect(p.length).toBe(96 * 4);
    for (let i = 0; i < 96; i++) {
      const row = p.subarray(i * 4, i * 4 + 4);
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      row.forEach((v) => expect(v).toBeGreaterThan(0));
    }
    // Dropout is off: batching and repetition do not change the result.
    expect(await predictProbabilities(model, data.x, data.inputShape, 96)).toEqual(p);
    // Row i depends on sample i only.
    expect(await predictProbabilities(model, data.x.subarray(5 * 64, 7 * 64), [8, 8, 1])).toEqual(
      p.subarray(5 * 4, 7 * 4),
    );
    model.dispose();
  });

  it('accepts a flat view of image data and rejects sizes that do not fit', async () => {
    const model = buildModel({ name: 'mlp', ...small, seed: 1 });
    expect(await predictProbabilities(model, data.x, [64])).toEqual(
      await predictProbabilities(model, data.x, [8, 8, 1]),
    );
    await expect(predictProbabilities(model, data.x.subarray(0, 100), [8, 8, 1])).rejects.toThrow(ModelError);
    await expect(predictProbabilities(model, data.x, [4, 4, 1])).rejects.toThrow(/model takes inputs/);
    model.dispose();
  });
});

describe('saveWeights / loadWeights', () => {
  it('round-trips into a fresh model built with another seed (predictions identical)', async () => {
    for (const cfg of [
      { name: 'mlp' as const },
      { name: 'sign-cnn' as const, width: 102 }, // BatchNorm moving statistics travel too
    ]) {
      const a = buildModel({ ...cfg, ...small, seed: 1 });
      await trainOnBatches({ model: a, data, batches: batchPlan(data.count, 16, 1) });
      const bytes = await saveWeights(a);
      const b = buildModel({ ...cfg, ...small, seed: 2 });
      const pa = await predictProbabilities(a, data.x, data.inputShape);
      expect(await predictProbabilities(b, data.x, data.inputShape)).not.toEqual(pa);
      const before = tf.memory().numTensors;
      await loadWeights(b, bytes);
      expect(tf.memory().numTensors).toBe(before);
      expect(await predictProbabilities(b, data.x, data.inputShape)).toEqual(pa);
      a.dispose();
      b.dispose();
    }
  });

  it('describes itself: magic, version and a JSON header of names, shapes and dtypes', async () => {
    const model = buildModel({ name: 'fashion-small', ...small, seed: 1 });
    const bytes = await saveWeights(model);
    expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe('CHWT');
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    expect(view.getUint32(4, true)).toBe(1);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + view.getUint32(8, true))));
    expect(header.weights).toEqual([
      { name: 'hidden1/kernel', shape: [64, 100], dtype: 'float32' },
      { name: 'hidden1/bias', shape: [100], dtype: 'float32' },
      { name: 'output/kernel', shape: [100, 4], dtype: 'float32' },
      { name: 'output/bias', shape: [4], dtype: 'float32' },
    ]);
    expect(bytes.length).toBe(Math.ceil((12 + view.getUint32(8, true)) / 4) * 4 + 4 * (6400 + 100 + 400 + 4));
    model.dispose();
  });

  it('refuses bytes from another model or garbage, changing nothing', async () => {
    const model = buildModel({ name: 'mlp', ...small, seed: 1 });
    const reference = await predictProbabilities(model, data.x, data.inputShape);
    const other = buildModel({ name: 'mlp', ...small, seed: 1, width: 100 });
    const otherBytes = await saveWeights(other);
    const cnn = buildModel({ name: 'small-cnn', ...small, seed: 1 });
    const cases: [Uint8Array, RegExp][] = [
      [otherBytes, /hidden1\/kernel: checkpoint has float32 \[64,100\], the model float32 \[64,50\]/],
      [await saveWeights(cnn), /missing \[hidden1\/kernel/],
      [new Uint8Array(40), /not Chorus weights/],
      [otherBytes.subarray(0, otherBytes.length - 4), /bytes, its header describes/],
      [new Uint8Array(3), /too short/],
    ];
    for (const [bytes, pattern] of cases) {
      const error = await loadWeights(model, bytes).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ModelError);
      expect((error as ModelError).code).toBe('weights-mismatch');
      expect((error as Error).message).toMatch(pattern);
    }
    expect(await predictProbabilities(model, data.x, data.inputShape)).toEqual(reference);
    for (const m of [model, other, cnn]) m.dispose();
  });
});
