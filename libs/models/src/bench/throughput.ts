/**
 * Training throughput of the seed models at batch 64 (Adam), on random 784-feature data, for the
 * cpu and wasm backends and both training engines. Prints the median of 3 runs (after a warm-up)
 * of samples/s of wall time and per CPU second of this process (steadier on a shared machine).
 *
 *   npx tsx libs/models/src/bench/throughput.ts [--backends wasm,cpu] [--models mlp,mlp-128,fashion-dnn] [--seconds 2]
 *
 * Reference (FINDINGS.md, PyTorch 1.13, 1 thread): mlp 88,644/s; MLP 784-128-128-10 63,390/s.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { BackendName } from '../backends/select';
import { selectBackend } from '../backends/select';
import { makeOptimizer } from '../models/realize';
import { buildModel } from '../models/registry';
import { trainOnBatches } from '../training/train';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? (args[i + 1] ?? fallback) : fallback;
};
const backends = arg('backends', 'wasm,cpu').split(',') as BackendName[];
const seconds = Number(arg('seconds', '2'));
const only = arg('models', 'mlp,mlp-128,fashion-dnn').split(',');

const BATCH = 64;
const COUNT = 4096;
const x = new Float32Array(COUNT * 784);
for (let i = 0; i < x.length; i++) x[i] = ((i * 2654435761) % 1000) / 1000;
const y = Int32Array.from({ length: COUNT }, (_, i) => i % 10);
const data = { x, y, inputShape: [28, 28, 1], numClasses: 10 };

/** The MLP of FINDINGS.md's baseline, not one of the seed models. */
function mlp128(): tfl.LayersModel {
  const m = tfl.sequential();
  m.add(tfl.layers.flatten({ inputShape: [28, 28, 1] }));
  m.add(tfl.layers.dense({ units: 128, activation: 'relu' }));
  m.add(tfl.layers.dense({ units: 128, activation: 'relu' }));
  m.add(tfl.layers.dense({ units: 10 }));
  m.add(tfl.layers.activation({ activation: 'softmax' }));
  m.compile({ optimizer: makeOptimizer('adam', 0.001), loss: 'categoricalCrossentropy' });
  return m;
}

function build(name: string): tfl.LayersModel {
  if (name === 'mlp-128') return mlp128();
  return buildModel({ name: name as 'mlp', inputShape: [28, 28, 1], numClasses: 10, seed: 1 });
}

function* batches(steps: number): Generator<Int32Array> {
  for (let s = 0; s < steps; s++) {
    const b = new Int32Array(BATCH);
    for (let i = 0; i < BATCH; i++) b[i] = (s * BATCH + i) % COUNT;
    yield b;
  }
}

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] as number;

async function measure(
  model: tfl.LayersModel,
  engine: 'auto' | 'autodiff',
): Promise<{ wall: number; cpu: number }> {
  // Warm up for ~1.5 s: V8 needs thousands of steps before the JS loops are fully optimised.
  let stepSeconds = Infinity;
  for (let warm = 0; warm < 1.5;) {
    const r = await trainOnBatches({ model, data, batches: batches(20), engine });
    warm += r.seconds;
    stepSeconds = r.seconds / r.steps;
  }
  const steps = Math.max(10, Math.round(seconds / stepSeconds));
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let run = 0; run < 3; run++) {
    const c0 = cpuMs();
    const r = await trainOnBatches({ model, data, batches: batches(steps), engine, metricsEvery: 50 });
    cpu.push(r.samples / ((cpuMs() - c0) / 1000));
    wall.push(r.samples / r.seconds);
  }
  return { wall: median(wall), cpu: median(cpu) };
}

const rows: Record<string, string | number>[] = [];
for (const backend of backends) {
  const selected = await selectBackend(backend);
  for (const name of only) {
    for (const engine of ['auto', 'autodiff'] as const) {
      const model = build(name);
      const before = tf.memory().numTensors;
      const { wall, cpu } = await measure(model, engine);
      if (tf.memory().numTensors !== before) throw new Error('tensors leaked');
      rows.push({
        backend: selected.backend,
        model: name,
        engine,
        'samples/s (wall)': Math.round(wall),
        'samples/CPU-s': Math.round(cpu),
      });
      model.dispose();
      console.log(JSON.stringify(rows[rows.length - 1]));
    }
  }
}
console.table(rows);
