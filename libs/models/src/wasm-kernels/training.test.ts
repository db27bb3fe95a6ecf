/**
 * End to end: the seed convnets train on wasm with Chorus' kernels — the loss falls, one step
 * gives the same weights as on the cpu backend from the same initial weights, and repeated steps
 * leave no tensors or wasm buffers behind.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerChorusWasmKernels } from './index';
import { buildTestModel } from './test-models';
import type { TestModelName } from './test-models';
import { liveCounts, maxRelError, randomValues } from './test-utils';
import { useWasmBackend } from './wasm-setup';

const BATCH = 4;

/**
 * The comparisons with the cpu backend start from seeded weights. With weights drawn afresh in
 * every run, now and then a ReLU input lies within float32 rounding of 0; the two backends then
 * take different branches, and with 4 samples a Dense gradient moves by a quarter of one
 * sample's share. One CI run failed that way, with a relative error of 0.16 in a sign-cnn weight.
 * With seeded weights every run computes the same thing. With this seed the three models agree
 * with cpu to within 2e-5 (the bound is 1e-4).
 */
const INIT_SEED = 1;

function batch(numClasses: number, seed: number, n = BATCH): { x: tf.Tensor; y: tf.Tensor } {
  const x = tf.tensor4d(
    randomValues(n * 28 * 28, seed).map((v) => (v + 1) / 2),
    [n, 28, 28, 1],
  );
  const labels = Array.from(
    randomValues(n, seed + 1),
    (v) => Math.floor(((v + 1) / 2) * numClasses) % numClasses,
  );
  return { x, y: tf.oneHot(tf.tensor1d(labels, 'int32'), numClasses) };
}

/** A task a convnet learns in a few steps: class c is a bright 7×7 patch at position c on faint noise. */
function learnableBatch(n: number): { x: tf.Tensor; y: tf.Tensor } {
  const noise = randomValues(n * 28 * 28, 21);
  const v = new Float32Array(n * 28 * 28);
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = i % 10;
    labels.push(c);
    const r0 = 3 + 14 * Math.floor(c / 5);
    const c0 = 1 + 5 * (c % 5);
    for (let p = 0; p < 784; p++) v[i * 784 + p] = 0.1 * Math.abs(noise[i * 784 + p] as number);
    for (let r = r0; r < r0 + 7; r++) for (let q = c0; q < c0 + 7 && q < 28; q++) v[i * 784 + r * 28 + q] = 1;
  }
  return { x: tf.tensor4d(v, [n, 28, 28, 1]), y: tf.oneHot(tf.tensor1d(labels, 'int32'), 10) };
}

function numClassesOf(name: TestModelName): number {
  return name === 'sign-cnn' ? 24 : 10;
}

/** One step of `optimizer` on `backend` from `initial` weights; returns the weights after it. */
async function oneStep(
  backend: string,
  name: TestModelName,
  initial: Float32Array[],
  optimizer: () => tf.Optimizer,
): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const model = buildTestModel(name, { dropoutSeed: 7 });
  model.setWeights(model.getWeights().map((w, i) => tf.tensor(initial[i] as Float32Array, w.shape)));
  model.compile({ optimizer: optimizer(), loss: 'categoricalCrossentropy' });
  const { x, y } = batch(numClassesOf(name), 11);
  await model.trainOnBatch(x, y);
  const after = model.getWeights().map((w) => Float32Array.from(w.dataSync() as Float32Array));
  tf.dispose([x, y]);
  model.dispose();
  return after;
}

describe('training on wasm with Chorus kernels', () => {
  beforeAll(async () => {
    registerChorusWasmKernels();
    await useWasmBackend();
  });

  it('small CNN: the loss falls over a few Adam steps', async () => {
    await tf.setBackend('wasm');
    const model = buildTestModel('small-cnn', { initSeed: INIT_SEED, dropoutSeed: 3 });
    model.compile({ optimizer: tf.train.adam(3e-3), loss: 'categoricalCrossentropy' });
    const { x, y } = learnableBatch(32);
    const losses: number[] = [];
    for (let i = 0; i < 10; i++) losses.push((await model.trainOnBatch(x, y)) as number);
    expect(losses.every(Number.isFinite)).toBe(true);
    // Dropout makes single steps noisy: compare the last two steps with the first.
    const last = ((losses[8] as number) + (losses[9] as number)) / 2;
    expect(last, losses.map((l) => l.toFixed(3)).join(' ')).toBeLessThan((losses[0] as number) * 0.7);
    tf.dispose([x, y]);
    model.dispose();
  });

  it.each(['small-cnn', 'sign-cnn', 'lenet5'] as const)(
    '%s: one SGD step gives the cpu backend’s weights',
    async (name) => {
      await tf.setBackend('wasm');
      const probe = buildTestModel(name, { initSeed: INIT_SEED });
      const initial = probe.getWeights().map((w) => Float32Array.from(w.dataSync() as Float32Array));
      probe.dispose();
      const sgd = () => tf.train.sgd(0.05);
      const onCpu = await oneStep('cpu', name, initial, sgd);
      const onWasm = await oneStep('wasm', name, initial, sgd);
      expect(onWasm.length).toBe(onCpu.length);
      onWasm.forEach((w, i) => {
        const ref = onCpu[i] as Float32Array;
        const w0 = initial[i] as Float32Array;
        expect(maxRelError(w, ref, 1e-2), `weight ${i} of ${name}`).toBeLessThan(1e-4);
        // The step itself (lr·gradient), relative to its mean size: this is what the kernels compute.
        const dRef = ref.map((v, j) => v - (w0[j] as number));
        const d = w.map((v, j) => v - (w0[j] as number));
        const meanAbs = dRef.reduce((p, q) => p + Math.abs(q), 0) / dRef.length;
        if (meanAbs > 0) expect(maxRelError(d, dRef, meanAbs)).toBeLessThan(2e-3);
      });
    },
  );

  it('small CNN: one Adam step gives the cpu backend’s weights', async () => {
    await tf.setBackend('wasm');
    const probe = buildTestModel('small-cnn', { initSeed: INIT_SEED });
    const initial = probe.getWeights().map((w) => Float32Array.from(w.dataSync() as Float32Array));
    probe.dispose();
    // Adam's first step is lr·g/(|g|+ε): with tfjs' ε = 1e-7 a gradient of ~1e-7 (float32 noise
    // on a near-zero gradient) can move a weight by anything up to lr on either backend. ε = 1e-2
    // keeps the step a smooth function of g (|Δstep| ≤ lr·|Δg|/ε), so the comparison tests the
    // gradients; with ε = 1e-4 float32 noise between backends still failed it now and then.
    const adam = () => tf.train.adam(1e-3, 0.9, 0.999, 1e-2);
    const onCpu = await oneStep('cpu', 'small-cnn', initial, adam);
    const onWasm = await oneStep('wasm', 'small-cnn', initial, adam);
    onWasm.forEach((w, i) => expect(maxRelError(w, onCpu[i] as Float32Array, 1e-2)).toBeLessThan(1e-4));
  });

  it.each(['small-cnn', 'sign-cnn'] as const)(
    '%s: training steps leak no tensors or wasm buffers',
    async (name) => {
      await tf.setBackend('wasm');
      const model = buildTestModel(name);
      model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
      const { x, y } = batch(numClassesOf(name), 5, 8);
      await model.trainOnBatch(x, y); // creates the optimizer's slots
      const before = liveCounts();
      await model.trainOnBatch(x, y);
      await model.trainOnBatch(x, y);
      expect(liveCounts()).toEqual(before);
      tf.dispose([x, y]);
      model.dispose();
    },
  );
});
