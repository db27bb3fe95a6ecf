/**
 * What the GPU kit measures (bench/gpu/README.md), in one process: the WebGPU adapter, tfjs matMul
 * GFLOP/s, and samples/s of one training epoch of a few models on webgpu and on wasm. Bundled into
 * the kit as bench.mjs; here `npx tsx bench/gpu/measure.ts --quick --out x.json` runs it directly.
 *
 *   --out FILE         where the JSON goes (default gpu-bench.json)
 *   --quick            small sizes and only mlp and lenet5 (the dry run on a machine without a GPU,
 *                      where llvmpipe trains sign-cnn at ~2 samples/s)
 *   --allow-software   take a software adapter (Mesa llvmpipe) when there is no GPU
 *
 * Prints figures and writes them; asserts nothing.
 */
import { writeFileSync } from 'node:fs';
import { cpus, hostname } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import {
  buildModel,
  listGpuAdapters,
  selectBackend,
  trainOnBatches,
  type BackendName,
  type BackendSelection,
} from '@chorus/models';
import type { ModelName } from '@chorus/protocol';

const args = process.argv.slice(2);
const has = (name: string): boolean => args.includes(`--${name}`);
const arg = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? (args[i + 1] ?? fallback) : fallback;
};
const quick = has('quick');
const out = arg('out', 'gpu-bench.json');
const MODELS: { name: ModelName; classes: number }[] = [
  { name: 'mlp', classes: 10 },
  { name: 'fashion-dnn', classes: 10 },
  { name: 'lenet5', classes: 10 },
  { name: 'sign-cnn', classes: 24 },
];
const MEASURED = quick ? MODELS.filter((m) => m.name === 'mlp' || m.name === 'lenet5') : MODELS;
const SIZES = quick ? [128, 256] : [1024, 4096];
const SAMPLES = quick ? 128 : 8192;
const WARM_BATCHES = quick ? 1 : 4;
const BATCH = 64;

/** GFLOP/s of an n×n×n float32 product: warm-up, then enough repetitions for ~1 s, read once at the end. */
async function matMulGflops(n: number): Promise<number> {
  const a = tf.randomUniform([n, n]);
  const b = tf.randomUniform([n, n]);
  const once = async (reps: number): Promise<number> => {
    const start = performance.now();
    let last: tf.Tensor | null = null;
    for (let i = 0; i < reps; i++) {
      last?.dispose();
      last = tf.matMul(a, b);
    }
    const sum = tf.sum(last as tf.Tensor);
    await sum.data(); // waits for every queued product
    sum.dispose();
    last?.dispose();
    return (performance.now() - start) / 1000;
  };
  const warm = await once(2);
  const reps = Math.max(2, Math.min(200, Math.round(1 / Math.max(warm / 2, 1e-4))));
  const seconds = await once(reps);
  a.dispose();
  b.dispose();
  return (2 * n ** 3 * reps) / seconds / 1e9;
}

/** Samples/s of one epoch of `SAMPLES` random 28×28 images, after a few warm-up batches. */
async function epochSamplesPerSecond(name: ModelName, classes: number): Promise<number> {
  const x = new Float32Array(SAMPLES * 784);
  for (let i = 0; i < x.length; i++) x[i] = ((i * 2654435761) % 1000) / 1000;
  const y = Int32Array.from({ length: SAMPLES }, (_, i) => i % classes);
  const data = { x, y, inputShape: [28, 28, 1], numClasses: classes };
  const model = buildModel({ name, inputShape: [28, 28, 1], numClasses: classes, seed: 1 });
  const batches = (count: number) =>
    Array.from({ length: count }, (_, s) =>
      Int32Array.from({ length: BATCH }, (_, i) => (s * BATCH + i) % SAMPLES),
    );
  await trainOnBatches({ model, data, batches: batches(WARM_BATCHES), metricsEvery: 1_000_000 });
  const r = await trainOnBatches({ model, data, batches: batches(SAMPLES / BATCH), metricsEvery: 1_000_000 });
  model.dispose();
  return r.samples / r.seconds;
}

interface BackendFigures {
  backend: BackendName;
  device: string;
  detail: string;
  matMulGflops?: Record<string, number>;
  samplesPerSecond: Partial<Record<ModelName, number>>;
  errors: string[];
}

async function measure(
  backend: BackendName,
): Promise<BackendFigures | { backend: BackendName; error: string }> {
  let selection: BackendSelection;
  try {
    selection = await selectBackend(backend, { allowSoftwareGpu: has('allow-software') });
  } catch (e) {
    return { backend, error: e instanceof Error ? e.message : String(e) };
  }
  const figures: BackendFigures = { ...selection, samplesPerSecond: {}, errors: [] };
  console.log(`${backend}: ${selection.device}`);
  if (backend === 'webgpu') {
    figures.matMulGflops = {};
    for (const n of SIZES) {
      figures.matMulGflops[String(n)] = await matMulGflops(n);
      console.log(`  matMul ${n}: ${figures.matMulGflops[String(n)]?.toFixed(1)} GFLOP/s`);
    }
  }
  for (const { name, classes } of MEASURED) {
    try {
      figures.samplesPerSecond[name] = await epochSamplesPerSecond(name, classes);
      console.log(`  ${name}: ${Math.round(figures.samplesPerSecond[name] ?? 0)} samples/s`);
    } catch (e) {
      figures.errors.push(`${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return figures;
}

const started = new Date().toISOString();
const adapters = await listGpuAdapters();
const results = [];
for (const backend of ['webgpu', 'wasm'] as const) results.push(await measure(backend));
const report = {
  started,
  host: hostname(),
  cpus: cpus().length,
  node: process.version,
  quick,
  batch: BATCH,
  samplesPerEpoch: SAMPLES,
  adapters,
  results,
};
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
console.log(`wrote ${out}`);
// dawn.node keeps the process alive while its GPU object lives.
process.exit(0);
