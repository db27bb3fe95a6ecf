/**
 * Chorus' replacements of stock wasm kernels (MaxPoolGrad, AvgPool, AvgPoolGrad, Tanh, Sum, Mean, Tile,
 * BatchMatMul, Identity, Cast, FusedBatchNorm) against the cpu backend, and their bookkeeping (no leaked tensors or
 * wasm buffers; aliases that share a buffer keep it alive).
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { chorusWasmKernelNames, registerChorusWasmKernels, stockWasmKernel } from './index';
import { setSimdKernelsEnabled } from './simd';
import { liveCounts, maxRelError, randomValues, valuesOn } from './test-utils';
import { useWasmBackend } from './wasm-setup';

const TOL = 1e-4;

async function expectSame(f: () => tf.Tensor | tf.Tensor[], tol = TOL): Promise<void> {
  const ref = await valuesOn('cpu', f);
  const got = await valuesOn('wasm', f);
  expect(got.length).toBe(ref.length);
  got.forEach((g, i) => {
    const r = ref[i] as Float32Array;
    // Relative to the element, with the tensor's mean magnitude as the floor (sums of many terms).
    const meanAbs = r.reduce((p, q) => p + Math.abs(q), 0) / Math.max(1, r.length);
    expect(maxRelError(g, r, meanAbs)).toBeLessThan(tol);
  });
}

function expectNoLeak(f: () => unknown): void {
  tf.tidy(() => {
    f();
  });
  const before = liveCounts();
  tf.tidy(() => {
    f();
  });
  expect(liveCounts()).toEqual(before);
}

const t = (shape: number[], seed: number) =>
  tf.tensor(
    randomValues(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
    shape,
  );

describe('Chorus wasm kernels', () => {
  beforeAll(async () => {
    registerChorusWasmKernels();
    await useWasmBackend();
  });

  it('replace the stock kernels they name', () => {
    for (const name of chorusWasmKernelNames()) {
      expect(tf.getKernel(name, 'wasm')?.kernelFunc).not.toBe(stockWasmKernel(name)?.kernelFunc);
    }
    registerChorusWasmKernels(); // idempotent
    expect(chorusWasmKernelNames()).toContain('Conv2DBackpropFilter');
  });

  describe('MaxPoolGrad', () => {
    const cases: [number[], number, number, 'same' | 'valid'][] = [
      [[2, 8, 8, 5], 2, 2, 'same'], // disjoint 2×2
      [[2, 7, 7, 5], 2, 2, 'same'], // disjoint, clipped border windows (sign-cnn's 7→4)
      [[2, 7, 7, 5], 2, 2, 'valid'], // an uncovered last row/column
      [[2, 9, 9, 3], 3, 2, 'same'], // overlapping windows
      [[1, 8, 8, 4], 3, 3, 'valid'], // disjoint 3×3
      [[1, 9, 9, 2], 2, 3, 'valid'], // gaps between windows
    ];
    it.each(cases)('matches cpu on %j pool %i stride %i %s', async (shape, k, s, pad) => {
      await expectSame(() => {
        const x = t(shape, 1);
        const y = tf.maxPool(x as tf.Tensor4D, k, s, pad);
        return tf.grad((a: tf.Tensor) => tf.maxPool(a as tf.Tensor4D, k, s, pad))(x, t(y.shape, 2));
      });
    });

    it('sends a tied window’s gradient to its first maximum only, as cpu does', async () => {
      // ReLU outputs: windows of equal zeros are common.
      await expectSame(() => {
        const x = tf.relu(tf.round(t([2, 8, 8, 6], 3)));
        return tf.grad((a: tf.Tensor) => tf.maxPool(a as tf.Tensor4D, 2, 2, 'same'))(x, t([2, 4, 4, 6], 4));
      });
      await tf.setBackend('wasm');
      const x = tf.tensor4d([0, 0, 0, 0], [1, 2, 2, 1]);
      const dx = tf.grad((a: tf.Tensor) => tf.maxPool(a as tf.Tensor4D, 2, 2, 'valid'))(
        x,
        tf.ones([1, 1, 1, 1]),
      );
      expect(Array.from(dx.dataSync())).toEqual([1, 0, 0, 0]);
    });

    it('leaks nothing', async () => {
      await tf.setBackend('wasm');
      expectNoLeak(() =>
        tf.grad((a: tf.Tensor) => tf.maxPool(a as tf.Tensor4D, 2, 2, 'same'))(t([2, 7, 7, 3], 5)),
      );
    });
  });

  describe('AvgPool', () => {
    const cases: [number[], number, number, 'same' | 'valid'][] = [
      [[2, 8, 8, 6], 2, 2, 'valid'],
      [[2, 8, 8, 8], 2, 2, 'same'],
      [[2, 7, 9, 3], 2, 2, 'valid'],
      [[2, 7, 7, 5], 2, 2, 'same'], // stock
      [[1, 9, 9, 2], 3, 3, 'valid'], // stock
    ];
    it.each(cases)('matches cpu on %j pool %i stride %i %s', async (shape, k, s, pad) => {
      await expectSame(() => tf.avgPool(t(shape, 5) as tf.Tensor4D, k, s, pad), 1e-6);
    });
    it('matches cpu without SIMD (stock)', async () => {
      setSimdKernelsEnabled(false);
      try {
        await expectSame(() => tf.avgPool(t([2, 8, 8, 6], 6) as tf.Tensor4D, 2, 2, 'valid'));
      } finally {
        setSimdKernelsEnabled(true);
      }
    });
  });

  describe('AvgPoolGrad', () => {
    const cases: [number[], number, number, 'same' | 'valid'][] = [
      [[2, 8, 8, 6], 2, 2, 'valid'], // lenet5: 4 SIMD lanes + 2 one by one
      [[2, 8, 8, 8], 2, 2, 'same'], // same without padding (even sides)
      [[2, 7, 9, 3], 2, 2, 'valid'], // an uncovered last row/column, channels one by one
      [[2, 7, 7, 5], 2, 2, 'same'], // padded border windows: stock
      [[1, 9, 9, 2], 3, 3, 'valid'], // 3×3: stock
      [[1, 9, 9, 4], 2, 1, 'valid'], // overlapping: stock
    ];
    const grads = (shape: number[], k: number, s: number, pad: 'same' | 'valid') => () => {
      const x = t(shape, 1);
      const y = tf.avgPool(x as tf.Tensor4D, k, s, pad);
      return tf.grad((a: tf.Tensor) => tf.avgPool(a as tf.Tensor4D, k, s, pad))(x, t(y.shape, 2));
    };
    it.each(cases)('matches cpu on %j pool %i stride %i %s', async (shape, k, s, pad) => {
      await expectSame(grads(shape, k, s, pad));
    });
    it('matches cpu without SIMD', async () => {
      setSimdKernelsEnabled(false);
      try {
        await expectSame(grads([2, 8, 8, 6], 2, 2, 'valid'));
        await expectSame(grads([2, 7, 9, 3], 2, 2, 'valid'));
      } finally {
        setSimdKernelsEnabled(true);
      }
    });
    it('leaks nothing', async () => {
      await tf.setBackend('wasm');
      expectNoLeak(grads([2, 8, 8, 6], 2, 2, 'valid'));
    });
  });

  describe('Tanh', () => {
    it('matches cpu, sizes with and without a remainder mod 4', async () => {
      for (const shape of [[4, 28, 28, 6], [3, 5, 7], [3], [1]]) {
        await expectSame(() => tf.tanh(tf.mul(t(shape, 3), 6)));
      }
    });
    it('is within 1e-6 of Math.tanh over a dense sweep of [−20, 20], ±∞ and NaN included', async () => {
      await tf.setBackend('wasm');
      const n = 4_000_001;
      const xs = new Float32Array(n);
      for (let i = 0; i < n; i++) xs[i] = -20 + i * 1e-5;
      const ys = tf.tidy(() => tf.tanh(tf.tensor1d(xs)).dataSync());
      let worst = 0;
      for (let i = 0; i < n; i++)
        worst = Math.max(worst, Math.abs((ys[i] as number) - Math.tanh(xs[i] as number)));
      expect(worst).toBeLessThanOrEqual(1e-6);
      const special = tf.tidy(() =>
        Array.from(tf.tanh(tf.tensor1d([Infinity, -Infinity, NaN, 0, -0, 1e-30, 3e-4])).dataSync()),
      );
      expect(
        special
          .slice(0, 2)
          .map((v) => Math.abs(v) - 1)
          .every((d) => Math.abs(d) < 1e-6),
      ).toBe(true);
      expect(special[2]).toBeNaN();
      expect(special.slice(3, 6)).toEqual([0, -0, Math.fround(1e-30)]);
      expect(special[6]).toBe(Math.fround(3e-4));
    });
    it('falls back to stock without SIMD', async () => {
      setSimdKernelsEnabled(false);
      try {
        await expectSame(() => tf.tanh(tf.mul(t([3, 5, 7], 4), 3)));
      } finally {
        setSimdKernelsEnabled(true);
      }
    });
    it('leaks nothing', async () => {
      await tf.setBackend('wasm');
      expectNoLeak(() => tf.tanh(t([5, 7], 5)));
    });
  });

  describe('Sum / Mean', () => {
    const cases: [number[], number | number[], boolean][] = [
      [[4, 5, 6, 7], [0, 1, 2], false], // leading axes (bias/BatchNorm gradients)
      [[4, 5, 6, 7], [0, 1, 2], true],
      [[4, 5, 6, 7], [2, 1, 0], false], // unsorted
      [[6, 7], 0, false],
      [[4, 5, 6], [0, 1, 2], false], // everything
      [[4, 5, 6], [1, 2], true], // not leading: stock
      [[4, 5, 6], -1, false],
    ];
    it.each(cases)('Sum matches cpu on %j axes %j keepDims %s', async (shape, axis, keepDims) => {
      await expectSame(() => tf.sum(t(shape, 6), axis, keepDims));
    });
    it.each(cases)('Mean matches cpu on %j axes %j keepDims %s', async (shape, axis, keepDims) => {
      await expectSame(() => tf.mean(t(shape, 7), axis, keepDims));
    });
    it('int32 sums (stock) and shapes', async () => {
      await tf.setBackend('wasm');
      const s = tf.sum(tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32'), 0);
      expect(s.dtype).toBe('int32');
      expect(Array.from(s.dataSync())).toEqual([4, 6]);
      expect(tf.sum(t([3, 4, 5], 1), [0, 1], true).shape).toEqual([1, 1, 5]);
      expect(tf.mean(t([3, 4, 5], 1), [0, 1]).shape).toEqual([5]);
    });
    it('leaks nothing', async () => {
      await tf.setBackend('wasm');
      expectNoLeak(() => [tf.sum(t([8, 9, 10], 1), [0, 1]), tf.mean(t([8, 9, 10], 1), 0)]);
    });
  });

  describe('Tile', () => {
    const cases: [number[], number[]][] = [
      [
        [1, 1, 1, 75],
        [4, 5, 6, 1],
      ], // BatchNorm's gradient
      [
        [2, 3],
        [3, 2],
      ],
      [
        [3, 1, 2],
        [1, 4, 1],
      ],
      [[5], [3]],
      [
        [2, 3, 4],
        [1, 1, 1],
      ],
    ];
    it.each(cases)('matches cpu on %j reps %j', async (shape, reps) => {
      await expectSame(() => tf.tile(t(shape, 8), reps));
    });
    it('tiles int32 and bool', async () => {
      await tf.setBackend('wasm');
      expect(Array.from(tf.tile(tf.tensor1d([1, 2], 'int32'), [3]).dataSync())).toEqual([1, 2, 1, 2, 1, 2]);
      expect(Array.from(tf.tile(tf.tensor2d([true, false], [2, 1], 'bool'), [1, 2]).dataSync())).toEqual([
        1, 1, 0, 0,
      ]);
    });
  });

  describe('BatchMatMul', () => {
    const cases: [number[], number[], boolean, boolean][] = [
      [[64, 40], [64, 51], true, false], // Dense weight gradient xᵀ·dy
      [[64, 51], [40, 51], false, true], // Dense input gradient dy·Wᵀ
      [[7, 5], [9, 7], true, true],
      [[3, 4, 5], [3, 6, 5], false, true], // batched
      [[6, 7], [7, 8], false, false],
    ];
    it.each(cases)('matches cpu on %j × %j tA %s tB %s', async (a, b, ta, tb) => {
      await expectSame(() => tf.matMul(t(a, 9), t(b, 10), ta, tb));
    });
    it('leaks nothing', async () => {
      await tf.setBackend('wasm');
      expectNoLeak(() => tf.matMul(t([16, 8], 1), t([16, 4], 2), true, false));
    });
  });

  describe('Identity / Cast', () => {
    it('share the buffer, which outlives whichever tensor is disposed first', async () => {
      await tf.setBackend('wasm');
      const before = liveCounts();
      const x = tf.tensor1d([1, 2, 3]);
      const y = tf.clone(x);
      const z = tf.cast(x, 'float32');
      x.dispose();
      expect(Array.from(y.dataSync())).toEqual([1, 2, 3]);
      y.dispose();
      expect(Array.from(z.dataSync())).toEqual([1, 2, 3]);
      z.dispose();
      expect(liveCounts()).toEqual(before);
    });
    it('Cast to another dtype still converts', async () => {
      await tf.setBackend('wasm');
      expect(Array.from(tf.cast(tf.tensor1d([1.7, -2.2]), 'int32').dataSync())).toEqual([1, -2]);
      expect(Array.from(tf.cast(tf.tensor1d([0, 2]), 'bool').dataSync())).toEqual([0, 1]);
    });
  });

  describe('FusedBatchNorm', () => {
    it('matches cpu with and without offset/scale', async () => {
      await expectSame(() => {
        const x = t([3, 4, 5, 6], 11);
        const mean = t([6], 12);
        const variance = tf.abs(t([6], 13));
        return [
          tf.batchNorm(x, mean, variance, t([6], 14), t([6], 15), 1e-3),
          tf.batchNorm(x, mean, variance, undefined, undefined, 1e-3),
        ];
      });
    });
    it('falls back to stock for non-per-channel statistics', async () => {
      await expectSame(() => {
        const x = t([2, 3, 4], 16);
        return tf.batchNorm(x, t([3, 4], 17), tf.abs(t([3, 4], 18)), undefined, undefined, 1e-3);
      });
    });
  });
});
