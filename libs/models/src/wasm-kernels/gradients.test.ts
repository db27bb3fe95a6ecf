/**
 * Chorus' Mean, FusedBatchNorm, Tanh and Relu gradient functions against tfjs' own, on the cpu backend (the
 * registry is global, so these serve every backend), and on wasm against cpu.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerChorusGradients, unregisterChorusGradients } from './gradients';
import { registerChorusWasmKernels } from './index';
import { setSimdKernelsEnabled } from './simd';
import { maxRelError, randomValues, valuesOn } from './test-utils';
import { useWasmBackend } from './wasm-setup';

const t = (shape: number[], seed: number) =>
  tf.tensor(
    randomValues(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
    shape,
  );

/** Training-mode batch normalisation as tfjs-layers does it: batch moments, then batchNorm. */
function bnTrainingGrads(): tf.Tensor[] {
  const x = t([4, 5, 5, 6], 1);
  const gamma = tf.add(t([6], 2), 1.5);
  const beta = t([6], 3);
  const dy = t([4, 5, 5, 6], 4);
  const f = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
    const { mean, variance } = tf.moments(a, [0, 1, 2]);
    return tf.batchNorm(a, mean, variance, b, g, 1e-3);
  };
  return tf.grads(f)([x, gamma, beta], dy);
}

/** Inference-mode normalisation with fixed statistics: gradients to all five inputs. */
function bnAllInputGrads(): tf.Tensor[] {
  const x = t([3, 4, 7], 5);
  const mean = t([7], 6);
  const variance = tf.add(tf.abs(t([7], 7)), 0.1);
  const offset = t([7], 8);
  const scale = t([7], 9);
  const f = (a: tf.Tensor, m: tf.Tensor, v: tf.Tensor, o: tf.Tensor, s: tf.Tensor) =>
    tf.batchNorm(a, m, v, o, s, 1e-3);
  return tf.grads(f)([x, mean, variance, offset, scale], t([3, 4, 7], 10));
}

function meanGrads(): tf.Tensor[] {
  return [
    tf.grad((a: tf.Tensor) => tf.mean(a, [0, 1, 2]))(t([3, 4, 5, 6], 15), t([6], 16)),
    tf.grad((a: tf.Tensor) => tf.mean(a, [1], true))(t([3, 4, 5], 17), t([3, 1, 5], 18)),
    tf.grad((a: tf.Tensor) => tf.mean(a))(t([3, 4], 19)),
  ];
}

function tanhGrads(): tf.Tensor[] {
  const f = (a: tf.Tensor) => tf.tanh(a);
  return [
    tf.grad(f)(tf.mul(t([4, 7, 7, 6], 20), 3), t([4, 7, 7, 6], 21)),
    tf.grad(f)(tf.mul(t([3, 5], 22), 3), t([3, 5], 23)), // size mod 4 ≠ 0
    tf.grad((a: tf.Tensor) => tf.sum(tf.tanh(a)))(t([9], 24)),
  ];
}

function reluGrads(): tf.Tensor[] {
  const f = (a: tf.Tensor) => tf.relu(a);
  return [
    tf.grad(f)(t([4, 7, 7, 6], 25), t([4, 7, 7, 6], 26)),
    tf.grad(f)(t([3, 5], 27), t([3, 5], 28)), // size mod 4 ≠ 0
  ];
}

const cases: [string, () => tf.Tensor[]][] = [
  ['BatchNorm in training (moments + batchNorm)', bnTrainingGrads],
  ['batchNorm w.r.t. all five inputs', bnAllInputGrads],
  ['mean over various axes', meanGrads],
  ['tanh', tanhGrads],
  ['relu', reluGrads],
];

function expectClose(got: Float32Array[], ref: Float32Array[], tol = 1e-4): void {
  expect(got.length).toBe(ref.length);
  got.forEach((g, i) => {
    const r = ref[i] as Float32Array;
    const meanAbs = r.reduce((p, q) => p + Math.abs(q), 0) / Math.max(1, r.length);
    expect(maxRelError(g, r, meanAbs)).toBeLessThan(tol);
  });
}

describe('Chorus gradient functions', () => {
  beforeAll(async () => {
    registerChorusWasmKernels();
    await useWasmBackend();
  });
  afterAll(() => registerChorusGradients());

  it.each(cases)('%s: same values as tfjs’ own on cpu', async (_name, f) => {
    unregisterChorusGradients();
    const ref = await valuesOn('cpu', f);
    registerChorusGradients();
    const got = await valuesOn('cpu', f);
    expectClose(got, ref);
  });

  it.each(cases)('%s: wasm matches cpu', async (_name, f) => {
    registerChorusGradients();
    expectClose(await valuesOn('wasm', f), await valuesOn('cpu', f));
  });

  it('on wasm, the BatchNorm gradient runs as one fused kernel, SIMD or not', async () => {
    await tf.setBackend('wasm');
    const profile = await tf.profile(() => {
      tf.dispose(bnTrainingGrads());
    });
    expect(profile.kernelNames).toContain('ChorusBatchNormGrad');
    setSimdKernelsEnabled(false);
    try {
      expectClose(await valuesOn('wasm', bnTrainingGrads), await valuesOn('cpu', bnTrainingGrads));
    } finally {
      setSimdKernelsEnabled(true);
    }
  });

  it('on wasm, the Tanh gradient runs as one kernel, SIMD or not', async () => {
    await tf.setBackend('wasm');
    const profile = await tf.profile(() => {
      tf.dispose(tanhGrads());
    });
    expect(profile.kernelNames).toContain('ChorusTanhGrad');
    expect(profile.kernelNames).not.toContain('Square');
    setSimdKernelsEnabled(false);
    try {
      expectClose(await valuesOn('wasm', tanhGrads), await valuesOn('cpu', tanhGrads));
    } finally {
      setSimdKernelsEnabled(true);
    }
  });

  it('on wasm, the Relu gradient runs as one kernel, SIMD or not', async () => {
    await tf.setBackend('wasm');
    const profile = await tf.profile(() => {
      tf.dispose(reluGrads());
    });
    expect(profile.kernelNames).toContain('ChorusReluGrad');
    expect(profile.kernelNames).not.toContain('Step');
    setSimdKernelsEnabled(false);
    try {
      expectClose(await valuesOn('wasm', reluGrads), await valuesOn('cpu', reluGrads));
    } finally {
      setSimdKernelsEnabled(true);
    }
  });

  it('the Relu gradient keeps tfjs’ NaN cases on wasm, SIMD lanes and tail alike', async () => {
    // NaN x gives NaN; NaN or ∞ dy times step 0 gives NaN, as Step·dy does (9 values: 8 in SIMD, 1 in JS).
    const special = () =>
      tf.grad((a: tf.Tensor) => tf.relu(a))(
        tf.tensor1d([NaN, -1, 2, 0, -0, 3, -2, Infinity, NaN]),
        tf.tensor1d([1, 1, 1, 1, 1, NaN, Infinity, 2, 1]),
      );
    const [ref] = await valuesOn('cpu', special);
    const [got] = await valuesOn('wasm', special);
    expect(Array.from(got as Float32Array)).toEqual(Array.from(ref as Float32Array));
    expect(Number.isNaN((got as Float32Array)[0])).toBe(true);
    expect(Number.isNaN((got as Float32Array)[8])).toBe(true);
  });
});
