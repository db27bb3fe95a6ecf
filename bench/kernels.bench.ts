/**
 * Chorus' wasm kernels: per-kernel times (stock tfjs-backend-wasm vs Chorus, where a stock kernel
 * exists) on the seed convnets' shapes (sign-cnn, small-cnn, lenet5) at batch 64, then training
 * throughput (samples/s, batch 64, Adam, random 28×28 inputs) of sign-cnn, small-cnn and lenet5 on
 * wasm with Chorus' kernels, and of sign-cnn and small-cnn on the cpu backend for a few batches.
 *
 * Run: npx tsx bench/kernels.bench.ts [--steps N] [--cpu-batches N]   (defaults 20 and 1; 0 skips cpu)
 * Prints medians (and minima) of wall-clock times; nothing is asserted. The machine is shared:
 * expect ±30 % between runs.
 */
// bench/ belongs to the root project (tag type:app), which may use every lib. The kernel module and
// its test models are internals of @chorus/models (its package exports only the public API), so
// they are imported by path.
import * as tf from '@tensorflow/tfjs-core';
/* eslint-disable @nx/enforce-module-boundaries */
import {
  registerChorusWasmKernels,
  stockWasmKernel,
  unregisterChorusWasmKernels,
} from '../libs/models/src/wasm-kernels/index';
import {
  registerChorusGradients,
  unregisterChorusGradients,
} from '../libs/models/src/wasm-kernels/gradients';
import { buildTestModel } from '../libs/models/src/wasm-kernels/test-models';
import type { TestModelName } from '../libs/models/src/wasm-kernels/test-models';
import { useWasmBackend } from '../libs/models/src/wasm-kernels/wasm-setup';
/* eslint-enable @nx/enforce-module-boundaries */

const BATCH = 64;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) ? v : fallback;
}

function stats(ms: number[]): { median: number; min: number } {
  const s = [...ms].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)] as number, min: s[0] as number };
}

/** Times `f` (which returns tensors to dispose) `reps` times after one warm-up call. */
function timeIt(f: () => tf.Tensor | tf.Tensor[], reps: number): { median: number; min: number } {
  tf.dispose(f());
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    const r = f();
    ms.push(performance.now() - t0);
    tf.dispose(r);
  }
  return stats(ms);
}

const rand = (shape: number[]) => tf.randomUniform(shape, -1, 1);
/** One call of the kernel registered under `name` for the active backend. */
const kernel = (name: string, inputs: tf.NamedTensorMap, attrs: object): tf.Tensor =>
  tf.engine().runKernel(name, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;

interface KernelCase {
  name: string;
  shape: string;
  make: () => tf.Tensor[];
  run: (inputs: tf.Tensor[]) => tf.Tensor | tf.Tensor[];
  /** Which registrations the case compares: a stock kernel, or tfjs' own gradient function. */
  stock: 'kernel' | 'gradient' | 'none';
}

const conv = (attrs: object): tf.NamedAttrMap =>
  ({
    strides: [1, 1],
    pad: 'same',
    dataFormat: 'NHWC',
    dimRoundingMode: undefined,
    ...attrs,
  }) as unknown as tf.NamedAttrMap;

const kernelCases: KernelCase[] = [
  {
    name: 'Conv2DBackpropInput',
    shape: 'sign-cnn conv2: dy [64,14,14,50], W [3,3,75,50]',
    make: () => [rand([64, 14, 14, 50]), rand([3, 3, 75, 50])],
    run: ([dy, w]) =>
      kernel('Conv2DBackpropInput', { dy: dy!, filter: w! }, conv({ inputShape: [64, 14, 14, 75] })),
    stock: 'kernel',
  },
  {
    name: 'Conv2DBackpropInput',
    shape: 'small-cnn conv2: dy [64,11,11,64], W [3,3,32,64] valid',
    make: () => [rand([64, 11, 11, 64]), rand([3, 3, 32, 64])],
    run: ([dy, w]) =>
      kernel(
        'Conv2DBackpropInput',
        { dy: dy!, filter: w! },
        conv({ inputShape: [64, 13, 13, 32], pad: 'valid' }),
      ),
    stock: 'kernel',
  },
  {
    name: 'Conv2DBackpropFilter',
    shape: 'sign-cnn conv1: x [64,28,28,1], dy [64,28,28,75]',
    make: () => [rand([64, 28, 28, 1]), rand([64, 28, 28, 75])],
    run: ([x, dy]) =>
      kernel('Conv2DBackpropFilter', { x: x!, dy: dy! }, conv({ filterShape: [3, 3, 1, 75] })),
    stock: 'none',
  },
  {
    name: 'Conv2DBackpropFilter',
    shape: 'sign-cnn conv2: x [64,14,14,75], dy [64,14,14,50]',
    make: () => [rand([64, 14, 14, 75]), rand([64, 14, 14, 50])],
    run: ([x, dy]) =>
      kernel('Conv2DBackpropFilter', { x: x!, dy: dy! }, conv({ filterShape: [3, 3, 75, 50] })),
    stock: 'none',
  },
  {
    name: 'Conv2DBackpropFilter',
    shape: 'small-cnn conv2: x [64,13,13,32], dy [64,11,11,64] valid',
    make: () => [rand([64, 13, 13, 32]), rand([64, 11, 11, 64])],
    run: ([x, dy]) =>
      kernel('Conv2DBackpropFilter', { x: x!, dy: dy! }, conv({ filterShape: [3, 3, 32, 64], pad: 'valid' })),
    stock: 'none',
  },
  {
    name: 'Conv2DBackpropFilter',
    shape: 'lenet5 conv1: x [64,28,28,1], dy [64,28,28,6], 5×5 same',
    make: () => [rand([64, 28, 28, 1]), rand([64, 28, 28, 6])],
    run: ([x, dy]) => kernel('Conv2DBackpropFilter', { x: x!, dy: dy! }, conv({ filterShape: [5, 5, 1, 6] })),
    stock: 'none',
  },
  {
    name: 'Conv2DBackpropFilter',
    shape: 'lenet5 conv2: x [64,14,14,6], dy [64,10,10,16], 5×5 valid',
    make: () => [rand([64, 14, 14, 6]), rand([64, 10, 10, 16])],
    run: ([x, dy]) =>
      kernel('Conv2DBackpropFilter', { x: x!, dy: dy! }, conv({ filterShape: [5, 5, 6, 16], pad: 'valid' })),
    stock: 'none',
  },
  {
    name: 'Conv2DBackpropInput',
    shape: 'lenet5 conv1: dy [64,28,28,6], W [5,5,1,6] same',
    make: () => [rand([64, 28, 28, 6]), rand([5, 5, 1, 6])],
    run: ([dy, w]) =>
      kernel('Conv2DBackpropInput', { dy: dy!, filter: w! }, conv({ inputShape: [64, 28, 28, 1] })),
    stock: 'kernel',
  },
  {
    name: 'Conv2DBackpropInput',
    shape: 'lenet5 conv2: dy [64,10,10,16], W [5,5,6,16] valid',
    make: () => [rand([64, 10, 10, 16]), rand([5, 5, 6, 16])],
    run: ([dy, w]) =>
      kernel(
        'Conv2DBackpropInput',
        { dy: dy!, filter: w! },
        conv({ inputShape: [64, 14, 14, 6], pad: 'valid' }),
      ),
    stock: 'kernel',
  },
  {
    name: 'AvgPool',
    shape: 'lenet5 pool1: x [64,28,28,6] 2×2/2 valid',
    make: () => [rand([64, 28, 28, 6])],
    run: ([x]) => tf.avgPool(x as tf.Tensor4D, 2, 2, 'valid'),
    stock: 'kernel',
  },
  {
    name: 'AvgPoolGrad',
    shape: 'lenet5 pool1: dy [64,14,14,6], x [64,28,28,6] 2×2/2 valid',
    make: () => [rand([64, 28, 28, 6]), rand([64, 14, 14, 6])],
    run: ([x, dy]) =>
      kernel('AvgPoolGrad', { dy: dy!, input: x! }, { filterSize: 2, strides: 2, pad: 'valid' }),
    stock: 'kernel',
  },
  {
    name: 'AvgPoolGrad',
    shape: 'lenet5 pool2: dy [64,5,5,16], x [64,10,10,16] 2×2/2 valid',
    make: () => [rand([64, 10, 10, 16]), rand([64, 5, 5, 16])],
    run: ([x, dy]) =>
      kernel('AvgPoolGrad', { dy: dy!, input: x! }, { filterSize: 2, strides: 2, pad: 'valid' }),
    stock: 'kernel',
  },
  {
    name: 'Tanh',
    shape: 'lenet5 conv1 act: [64,28,28,6]',
    make: () => [tf.mul(rand([64, 28, 28, 6]), 4)],
    run: ([x]) => tf.tanh(x!),
    stock: 'kernel',
  },
  {
    name: 'Tanh',
    shape: 'lenet5 conv2 act: [64,10,10,16]',
    make: () => [tf.mul(rand([64, 10, 10, 16]), 4)],
    run: ([x]) => tf.tanh(x!),
    stock: 'kernel',
  },
  {
    name: 'Tanh gradient',
    shape: 'dy·(1−y²) of [64,28,28,6]',
    make: () => [tf.mul(rand([64, 28, 28, 6]), 4), rand([64, 28, 28, 6])],
    run: ([x, dy]) => tf.grad((a: tf.Tensor) => tf.tanh(a))(x!, dy),
    stock: 'gradient',
  },
  {
    name: 'Relu gradient',
    shape: 'dy·step(x) of [64,28,28,75] (sign-cnn conv1)',
    make: () => [rand([64, 28, 28, 75]), rand([64, 28, 28, 75])],
    run: ([x, dy]) => tf.grad((a: tf.Tensor) => tf.relu(a))(x!, dy),
    stock: 'gradient',
  },
  {
    name: 'Conv2D (forward, for scale)',
    shape: 'sign-cnn conv2: x [64,14,14,75], W [3,3,75,50]',
    make: () => [rand([64, 14, 14, 75]), rand([3, 3, 75, 50])],
    run: ([x, w]) => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'),
    stock: 'none',
  },
  {
    name: 'MaxPoolGrad',
    shape: 'sign-cnn pool1: x [64,28,28,75] 2×2/2 same',
    make: () => {
      const x = tf.relu(rand([64, 28, 28, 75]));
      return [x, tf.maxPool(x as tf.Tensor4D, 2, 2, 'same'), rand([64, 14, 14, 75])];
    },
    run: ([x, y, dy]) =>
      kernel('MaxPoolGrad', { dy: dy!, input: x!, output: y! }, { filterSize: 2, strides: 2, pad: 'same' }),
    stock: 'kernel',
  },
  {
    name: 'Sum (leading axes)',
    shape: '[64,28,28,75] over [0,1,2]',
    make: () => [rand([64, 28, 28, 75])],
    run: ([x]) => tf.sum(x!, [0, 1, 2]),
    stock: 'kernel',
  },
  {
    name: 'Mean (leading axes)',
    shape: '[64,28,28,75] over [0,1,2]',
    make: () => [rand([64, 28, 28, 75])],
    run: ([x]) => tf.mean(x!, [0, 1, 2]),
    stock: 'kernel',
  },
  {
    name: 'Tile',
    shape: '[1,1,1,75] × [64,28,28,1]',
    make: () => [rand([1, 1, 1, 75])],
    run: ([x]) => tf.tile(x!, [64, 28, 28, 1]),
    stock: 'kernel',
  },
  {
    name: 'BatchMatMul aᵀ·b',
    shape: 'Dense dW: [64,400]ᵀ·[64,512]',
    make: () => [rand([64, 400]), rand([64, 512])],
    run: ([a, b]) => tf.matMul(a!, b!, true, false),
    stock: 'kernel',
  },
  {
    name: 'BatchMatMul a·bᵀ',
    shape: 'Dense dx: [64,512]·[400,512]ᵀ',
    make: () => [rand([64, 512]), rand([400, 512])],
    run: ([a, b]) => tf.matMul(a!, b!, false, true),
    stock: 'kernel',
  },
  {
    name: 'FusedBatchNorm',
    shape: 'x [64,28,28,75]',
    make: () => [rand([64, 28, 28, 75]), rand([75]), tf.add(tf.abs(rand([75])), 0.5), rand([75]), rand([75])],
    run: ([x, m, v, o, s]) => tf.batchNorm(x!, m!, v!, o!, s!, 1e-3),
    stock: 'kernel',
  },
  {
    name: 'Identity (clone)',
    shape: '[64,28,28,75]',
    make: () => [rand([64, 28, 28, 75])],
    run: ([x]) => tf.clone(x!),
    stock: 'kernel',
  },
  {
    name: 'BatchNorm layer gradient',
    shape: 'moments + batchNorm of [64,28,28,75], d/d(x, γ, β)',
    make: () => [rand([64, 28, 28, 75]), tf.add(rand([75]), 1.5), rand([75]), rand([64, 28, 28, 75])],
    run: ([x, g, b, dy]) =>
      tf.grads((a: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor) => {
        const { mean, variance } = tf.moments(a, [0, 1, 2]);
        return tf.batchNorm(a, mean, variance, beta, gamma, 1e-3);
      })([x!, g!, b!], dy),
    stock: 'gradient',
  },
];

function fmt(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2);
}

async function benchKernels(): Promise<void> {
  await tf.setBackend('wasm');
  console.log('\n## Per-kernel wall time on wasm, batch 64 (median of 7, ms; min in brackets)\n');
  console.log('| kernel | shape | stock | Chorus | speed-up |');
  console.log('|---|---|---:|---:|---:|');
  for (const c of kernelCases) {
    const inputs = c.make();
    registerChorusWasmKernels();
    const chorus = timeIt(() => c.run(inputs), 7);
    let stockCell = 'missing';
    let speedup = '—';
    if (c.stock === 'kernel' && stockWasmKernel(c.name.split(' ')[0] as string) !== undefined) {
      unregisterChorusWasmKernels();
      registerChorusGradients(); // compare the kernel alone
      const s = timeIt(() => c.run(inputs), 5);
      unregisterChorusGradients();
      registerChorusWasmKernels();
      stockCell = `${fmt(s.median)} [${fmt(s.min)}]`;
      speedup = `${(s.median / chorus.median).toFixed(1)}×`;
    } else if (c.stock === 'gradient') {
      unregisterChorusWasmKernels();
      const s = timeIt(() => c.run(inputs), 5);
      registerChorusWasmKernels();
      stockCell = `${fmt(s.median)} [${fmt(s.min)}]`;
      speedup = `${(s.median / chorus.median).toFixed(1)}×`;
    } else if (c.name.startsWith('Conv2D (')) {
      stockCell = '(same kernel)';
    }
    console.log(
      `| ${c.name} | ${c.shape} | ${stockCell} | ${fmt(chorus.median)} [${fmt(chorus.min)}] | ${speedup} |`,
    );
    tf.dispose(inputs);
  }
  registerChorusWasmKernels();
}

async function throughput(
  backend: string,
  name: TestModelName,
  steps: number,
): Promise<{ perSec: number; best: number; stepMs: number }> {
  await tf.setBackend(backend);
  const model = buildTestModel(name);
  const classes = model.outputs[0]?.shape[1] as number;
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  const x = tf.randomUniform([BATCH, 28, 28, 1]);
  const y = tf.oneHot(tf.randomUniform([BATCH], 0, classes, 'int32') as tf.Tensor1D, classes);
  const warm = backend === 'cpu' ? 0 : 2;
  for (let i = 0; i < warm; i++) await model.trainOnBatch(x, y);
  const ms: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    await model.trainOnBatch(x, y);
    ms.push(performance.now() - t0);
  }
  tf.dispose([x, y]);
  model.dispose();
  const total = ms.reduce((a, b) => a + b, 0);
  return {
    perSec: (BATCH * steps * 1000) / total,
    best: (BATCH * 1000) / Math.min(...ms),
    stepMs: stats(ms).median,
  };
}

async function main(): Promise<void> {
  const steps = arg('--steps', 20);
  const cpuBatches = arg('--cpu-batches', 1);
  registerChorusWasmKernels();
  await useWasmBackend();
  await benchKernels();

  console.log(`\n## Training throughput, batch ${BATCH}, Adam, random 28×28 inputs\n`);
  console.log(
    '| model | backend | batches | samples/s (all batches) | samples/s (best batch) | median step ms |',
  );
  console.log('|---|---|---:|---:|---:|---:|');
  for (const name of ['sign-cnn', 'small-cnn', 'lenet5'] as const) {
    const r = await throughput('wasm', name, steps);
    console.log(
      `| ${name} | wasm + Chorus kernels | ${steps} | ${r.perSec.toFixed(0)} | ${r.best.toFixed(0)} | ${r.stepMs.toFixed(0)} |`,
    );
  }
  // Stock wasm cannot train a convnet at all.
  unregisterChorusWasmKernels();
  try {
    await throughput('wasm', 'small-cnn', 1);
    console.log('| small-cnn | wasm, stock kernels | 1 | (ran) | | |');
  } catch (e) {
    console.log(`| small-cnn | wasm, stock kernels | — | fails: ${(e as Error).message.slice(0, 70)} | | |`);
  }
  if (cpuBatches > 0) {
    for (const name of ['sign-cnn', 'small-cnn'] as const) {
      const r = await throughput('cpu', name, cpuBatches);
      console.log(
        `| ${name} | cpu (stock tfjs) | ${cpuBatches} | ${r.perSec.toFixed(1)} | ${r.best.toFixed(1)} | ${r.stepMs.toFixed(0)} |`,
      );
    }
  }
  console.log(
    '\nReference (measured once, not by this script): PyTorch 1.13, 1 thread, same settings: sign-cnn 632/s, the small CNN 1,379/s.',
  );
}

await main();
