/**
 * Where one training step's time goes: the kernels of a step of MODEL (lenet5, small-cnn, sign-cnn,
 * mlp…) on wasm at batch 64, from tf.profile over 20 steps, summed per kernel and input shape
 * (nested ops — fusedConv2d__op around FusedConv2D — count in both). Random 28×28 inputs.
 *
 *   npx tsx bench/profile-step.ts [MODEL]
 *
 * Prints the unprofiled step time, then the kernels by time per step; asserts nothing.
 */
import * as tf from '@tensorflow/tfjs-core';
import { buildModel, selectBackend, trainOnBatches } from '@chorus/models';
import { MODEL_NAMES, type ModelName } from '@chorus/protocol';

const name = (process.argv[2] ?? 'lenet5') as ModelName;
if (!MODEL_NAMES.includes(name)) throw new Error(`unknown model ${name}; one of ${MODEL_NAMES.join(', ')}`);
const classes = name === 'sign-cnn' ? 24 : 10;
await selectBackend('wasm');
const count = 4096;
const x = new Float32Array(count * 784);
for (let i = 0; i < x.length; i++) x[i] = ((i * 2654435761) % 1000) / 1000;
const y = Int32Array.from({ length: count }, (_, i) => i % classes);
const model = buildModel({ name, inputShape: [28, 28, 1], numClasses: classes, seed: 1 });
const data = { x, y, inputShape: [28, 28, 1], numClasses: classes };
const batches = (steps: number, off = 0) =>
  Array.from({ length: steps }, (_, s) =>
    Int32Array.from({ length: 64 }, (_, i) => ((s + off) * 64 + i) % count),
  );
await trainOnBatches({ model, data, batches: batches(20), metricsEvery: 1e6 });
const N = 20;
const t0 = performance.now();
await trainOnBatches({ model, data, batches: batches(N), metricsEvery: 1e6 });
const stepMs = (performance.now() - t0) / N;
const prof = await tf.profile(async () => {
  await trainOnBatches({ model, data, batches: batches(N, 3), metricsEvery: 1e6 });
});
const agg = new Map<string, { ms: number; n: number }>();
let total = 0;
for (const k of prof.kernels) {
  const key = `${k.name} ${JSON.stringify(k.inputShapes)}`;
  const a = agg.get(key) ?? { ms: 0, n: 0 };
  a.ms += k.kernelTimeMs as number;
  a.n++;
  agg.set(key, a);
  total += k.kernelTimeMs as number;
}
console.log(
  `step ${stepMs.toFixed(2)} ms unprofiled; kernels ${(total / N).toFixed(2)} ms/step in ${prof.kernels.length / N} kernels/step`,
);
for (const [k, v] of [...agg].sort((a, b) => b[1].ms - a[1].ms).slice(0, 45))
  console.log(`${(v.ms / N).toFixed(3).padStart(8)} ms ${String(v.n / N).padStart(4)}× ${k}`);
