/**
 * registerChorusWasmKernels() after the wasm backend is already running (the other order is what
 * the other test files do): stock kernels that ours delegate to were set up at backend start, so
 * everything works; unregistering restores the stock behaviour.
 */
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { registerChorusWasmKernels, stockWasmKernel, unregisterChorusWasmKernels } from './index';
import { setSimdKernelsEnabled } from './simd';
import { liveCounts, maxRelError, randomValues, valuesOn } from './test-utils';
import { useWasmBackend } from './wasm-setup';

const t = (shape: number[], seed: number) =>
  tf.tensor(
    randomValues(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
    shape,
  );

function convAndFriends(): tf.Tensor[] {
  const x = t([2, 8, 8, 3], 1);
  const w = t([3, 3, 3, 4], 2);
  const f = (a: tf.Tensor, b: tf.Tensor) =>
    tf.sum(
      tf.matMul(
        tf.reshape(
          tf.maxPool(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'), 2, 2, 'same'),
          [2, 64],
        ),
        t([64, 5], 3),
      ),
    );
  return tf.grads(f)([x, w]);
}

describe('registration order', () => {
  it('works when registered after tf.setBackend("wasm")', async () => {
    await useWasmBackend();
    expect(() => tf.tidy(convAndFriends)).toThrow(/Conv2DBackpropFilter/);
    registerChorusWasmKernels();
    registerChorusWasmKernels();
    const ref = await valuesOn('cpu', convAndFriends);
    const got = await valuesOn('wasm', convAndFriends);
    got.forEach((g, i) => expect(maxRelError(g, ref[i] as Float32Array, 1e-2)).toBeLessThan(1e-4));
  });

  it('the JS fallbacks of the SIMD kernels give the same values', async () => {
    setSimdKernelsEnabled(false);
    try {
      const ref = await valuesOn('cpu', convAndFriends);
      const got = await valuesOn('wasm', convAndFriends);
      got.forEach((g, i) => expect(maxRelError(g, ref[i] as Float32Array, 1e-2)).toBeLessThan(1e-4));
    } finally {
      setSimdKernelsEnabled(true);
    }
  });

  it('unregistering restores the stock kernels', async () => {
    await tf.setBackend('wasm');
    const before = liveCounts();
    unregisterChorusWasmKernels();
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();
    expect(tf.getKernel('Conv2DBackpropInput', 'wasm')).toBe(stockWasmKernel('Conv2DBackpropInput'));
    expect(tf.tidy(() => Array.from(tf.sum(tf.tensor2d([1, 2, 3, 4], [2, 2]), 0).dataSync()))).toEqual([
      4, 6,
    ]);
    registerChorusWasmKernels();
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
    expect(liveCounts()).toEqual(before);
  });
});
