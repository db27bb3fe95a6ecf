/**
 * The webgpu backend against wasm: every built-in model trained a few steps on both from the same
 * seeded weights. On the CPU build machines the adapter is Dawn's OpenGL ES backend over Mesa
 * llvmpipe (a software adapter, allowed here explicitly): it runs the same WGSL kernels a GPU runs.
 */
import * as tf from '@tensorflow/tfjs-core';
import { MODEL_NAMES, type ModelName } from '@chorus/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backends/select';
import { buildModel } from '../models/registry';
import { batchPlan, maxAbsDiff, syntheticData } from '../test-helpers';
import { trainOnBatches } from './train';

// In CI the GLES path is installed by .ci/run (Mesa's EGL) and must work; elsewhere a machine
// without it skips, loudly.
const requireAdapter = Boolean(process.env.CI);
const unavailable = await selectBackend('webgpu', { allowSoftwareGpu: true }).then(
  () => null,
  (e: unknown) => (e instanceof Error ? e.message : String(e)),
);
if (unavailable !== null && !requireAdapter) {
  console.warn(`libs/models/src/training/train-webgpu.test.ts skipped: ${unavailable}`);
}

const data = syntheticData(96, [12, 12, 1], 4, 3);
const shape = { inputShape: [12, 12, 1], numClasses: 4 };
/** Small widths keep the software adapter quick; lenet5 needs ≥ 12×12 images. */
const WIDTHS: Partial<Record<ModelName, number>> = { 'fashion-dnn': 51, 'sign-cnn': 154 };
const BATCH = 16;

async function weightsOf(model: { weights: { originalName: string; read(): tf.Tensor }[] }) {
  const out = new Map<string, Float32Array>();
  for (const w of model.weights) out.set(w.originalName, (await w.read().data()) as Float32Array);
  return out;
}

async function trainOn(backend: 'wasm' | 'webgpu', name: ModelName) {
  await selectBackend(backend, { allowSoftwareGpu: true });
  const width = WIDTHS[name];
  const model = buildModel({ name, ...shape, seed: 11, ...(width !== undefined ? { width } : {}) });
  const losses: number[] = [];
  await trainOnBatches({
    model,
    data,
    batches: batchPlan(data.count, BATCH, 1),
    metricsEvery: 1, // one loss per step
    onBatch: (m) => void losses.push(m.loss),
  });
  const weights = await weightsOf(model);
  model.dispose();
  return { losses, weights };
}

describe.skipIf(unavailable !== null && !requireAdapter)('trainOnBatches (webgpu vs wasm)', () => {
  afterAll(async () => {
    await selectBackend('cpu');
  });

  it('finds an adapter (in CI the software one must be there)', () => {
    expect(unavailable).toBeNull();
  });

  it.each(MODEL_NAMES)('%s: same losses and weights after a few Adam steps', async (name) => {
    const gpu = await trainOn('webgpu', name);
    const cpu = await trainOn('wasm', name);
    expect(gpu.losses).toHaveLength(data.count / BATCH);
    // Tolerance 1e-4, absolute, on every loss and weight. The backends sum in different orders
    // (GPU workgroup reductions vs XNNPACK), ~1e-7 relative per float32 kernel, and Adam's division by
    // sqrt(v) can amplify that where a gradient is near zero; measured here (llvmpipe): at most
    // 5.3e-6 on a weight and 3.6e-6 on a loss after 6 steps. A wrong kernel or a lost update moves them by ≥ 1e-3.
    const TOLERANCE = 1e-4;
    for (let i = 0; i < gpu.losses.length; i++) {
      expect(Math.abs((gpu.losses[i] as number) - (cpu.losses[i] as number)), `loss ${i}`).toBeLessThan(
        TOLERANCE,
      );
    }
    for (const [weight, values] of cpu.weights) {
      const other = gpu.weights.get(weight);
      expect(other, weight).toBeDefined();
      expect(maxAbsDiff(values, other as Float32Array), weight).toBeLessThan(TOLERANCE);
    }
    // And training moved them: identical-but-untrained weights would pass the comparison above.
    expect(gpu.losses[0]).not.toBe(gpu.losses[gpu.losses.length - 1]);
  });

  it('leaves no tensors behind per step', async () => {
    await selectBackend('webgpu', { allowSoftwareGpu: true });
    for (const name of ['fashion-dnn', 'sign-cnn'] as const) {
      const model = buildModel({ name, ...shape, seed: 2, width: WIDTHS[name] as number });
      // The first call creates the optimizer's slots; later calls must not add tensors.
      await trainOnBatches({ model, data, batches: batchPlan(data.count, BATCH, 1) });
      const before = tf.memory().numTensors;
      await trainOnBatches({ model, data, batches: batchPlan(data.count, BATCH, 2) });
      expect(tf.memory().numTensors, name).toBe(before);
      model.dispose();
    }
  });
});
