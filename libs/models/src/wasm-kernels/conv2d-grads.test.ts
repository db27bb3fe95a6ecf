/**
 * Chorus' Conv2DBackpropInput / Conv2DBackpropFilter on wasm against the cpu backend's kernels,
 * through tf.grads of conv2d, over the strides, paddings, kernel sizes, batch sizes and channel
 * counts the seed models use (all filter-gradient forms: the SIMD kernel for Ci = 1, Co ≤ 8 and
 * stride 1, im2col product for Ci ≤ 4, convolution above; both input-gradient forms: columns +
 * col2im for valid stride-1 convolutions with Ci ≤ 32, a convolution otherwise).
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerChorusWasmKernels, stockWasmKernel } from './index';
import { setSimdKernelsEnabled } from './simd';
import { liveCounts, maxRelError, randomValues, valuesOn } from './test-utils';
import { useWasmBackend } from './wasm-setup';

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
interface Case {
  b: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  k: number;
  s: number;
  pad: Pad;
}

function convGrads(c: Case, seed: number): () => tf.Tensor[] {
  const xv = randomValues(c.b * c.h * c.w * c.ci, seed);
  const wv = randomValues(c.k * c.k * c.ci * c.co, seed + 1);
  return () => {
    const x = tf.tensor4d(xv, [c.b, c.h, c.w, c.ci]);
    const w = tf.tensor4d(wv, [c.k, c.k, c.ci, c.co]);
    const f = (a: tf.Tensor, f4: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, f4 as tf.Tensor4D, c.s, c.pad);
    const y = f(x, w);
    const dy = tf.tensor(randomValues(y.size, seed + 2), y.shape);
    return tf.grads(f)([x, w], dy);
  };
}

const cases: Case[] = [];
for (const s of [1, 2])
  for (const pad of ['same', 'valid'] as const)
    for (const k of [1, 3, 5]) {
      cases.push({ b: 2, h: 9, w: 9, ci: 1, co: 4, k, s, pad }); // im2col product (first layer)
      cases.push({ b: 3, h: 8, w: 7, ci: 3, co: 5, k, s, pad }); // im2col product, odd sizes
      cases.push({ b: 2, h: 7, w: 7, ci: 6, co: 16, k, s, pad }); // convolution form
    }
// Explicit, asymmetric padding (the zero-inserted dy path of the input gradient).
cases.push({
  b: 2,
  h: 8,
  w: 8,
  ci: 5,
  co: 3,
  k: 3,
  s: 2,
  pad: [
    [0, 0],
    [1, 2],
    [0, 1],
    [0, 0],
  ],
});
cases.push({
  b: 2,
  h: 8,
  w: 8,
  ci: 2,
  co: 3,
  k: 3,
  s: 1,
  pad: [
    [0, 0],
    [3, 0],
    [2, 2],
    [0, 0],
  ],
});
// The seed models' layers (batch reduced to keep the cpu reference quick).
const modelCases: [string, Case][] = [
  ['sign-cnn conv1', { b: 8, h: 28, w: 28, ci: 1, co: 75, k: 3, s: 1, pad: 'same' }],
  ['sign-cnn conv2', { b: 2, h: 14, w: 14, ci: 75, co: 50, k: 3, s: 1, pad: 'same' }],
  ['sign-cnn conv3', { b: 4, h: 7, w: 7, ci: 50, co: 25, k: 3, s: 1, pad: 'same' }],
  ['lenet5 conv1', { b: 4, h: 28, w: 28, ci: 1, co: 6, k: 5, s: 1, pad: 'same' }],
  ['lenet5 conv2', { b: 4, h: 14, w: 14, ci: 6, co: 16, k: 5, s: 1, pad: 'valid' }],
  ['small-cnn conv2', { b: 4, h: 13, w: 13, ci: 32, co: 64, k: 3, s: 1, pad: 'valid' }],
];

const TOL = 1e-4;

async function expectMatchesCpu(c: Case, seed: number): Promise<void> {
  const g = convGrads(c, seed);
  const ref = await valuesOn('cpu', g);
  const got = await valuesOn('wasm', g);
  const [dxRef, dwRef] = ref as [Float32Array, Float32Array];
  const [dx, dw] = got as [Float32Array, Float32Array];
  const meanAbs = (v: Float32Array) => v.reduce((p, q) => p + Math.abs(q), 0) / v.length;
  expect(maxRelError(dx, dxRef, meanAbs(dxRef))).toBeLessThan(TOL);
  expect(maxRelError(dw, dwRef, meanAbs(dwRef))).toBeLessThan(TOL);
}

describe('Chorus wasm conv2d gradients', () => {
  beforeAll(async () => {
    registerChorusWasmKernels();
    await useWasmBackend();
  });

  it('are the registered wasm kernels', () => {
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
    const input = tf.getKernel('Conv2DBackpropInput', 'wasm');
    expect(input?.kernelFunc).not.toBe(stockWasmKernel('Conv2DBackpropInput')?.kernelFunc);
  });

  it.each(cases.map((c, i) => [JSON.stringify(c), c, i] as const))('match cpu: %s', async (_name, c, i) => {
    await expectMatchesCpu(c, 100 + i * 7);
  });

  it.each(modelCases)('match cpu on %s', async (_name, c) => {
    await expectMatchesCpu(c, 7);
  });

  it('match cpu without SIMD (the im2col product and the convolution forms)', async () => {
    setSimdKernelsEnabled(false);
    try {
      await expectMatchesCpu(modelCases[3]![1], 11);
      await expectMatchesCpu(cases[2 * 3]!, 12);
      await expectMatchesCpu(modelCases[4]![1], 13); // lenet5 conv2: the convolution form
    } finally {
      setSimdKernelsEnabled(true);
    }
  });

  it('leave no tensors or wasm buffers behind', async () => {
    await tf.setBackend('wasm');
    for (const c of [cases[0]!, cases[1]!, cases[2]!, cases[cases.length - 7]!, modelCases[0]![1]]) {
      const g = convGrads(c, 3);
      tf.tidy(g); // warm up (first calls create XNNPACK operators)
      const before = liveCounts();
      tf.tidy(() => {
        g();
      });
      expect(liveCounts()).toEqual(before);
    }
  });
});
