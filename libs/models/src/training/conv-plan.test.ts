import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { afterAll, describe, expect, it } from 'vitest';
import { buildModel } from '../models/registry';
import { maxAbsDiff } from '../test-helpers';
import { registerChorusWasmKernels } from '../wasm-kernels/index';
import { useWasmBackend } from '../wasm-kernels/wasm-setup';
import { autodiffGradients, planGeneric } from './autodiff';
import { convGradients, planConv } from './conv-plan';
import { withStepSeeds } from './dropout';

afterAll(async () => {
  await tf.setBackend('cpu');
});

const shapes = { inputShape: [28, 28, 1], numClasses: 10, seed: 3 };

function batch(n: number): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const x = tf.randomUniform([n, 28, 28, 1], 0, 1, 'float32', 11) as tf.Tensor4D;
  const labels = tf.tensor1d(
    Array.from({ length: n }, (_, i) => (i * 7) % 10),
    'int32',
  );
  const y = tf.cast(tf.oneHot(labels, 10), 'float32') as tf.Tensor2D;
  labels.dispose();
  return { x, y };
}

/** Gradients and softmax of both paths at training step `step` (dropout seeds), as arrays. */
function bothPaths(model: tfl.LayersModel, step: number, n = 8) {
  const conv = planConv(model);
  if (conv === null) throw new Error('no conv plan');
  const generic = planGeneric(model);
  const { x, y } = batch(n);
  const ours = convGradients(conv, x, y, step);
  const ref = withStepSeeds(model.layers, generic.dropoutSeeds, step, () =>
    autodiffGradients(model, generic, x, y),
  );
  const out = {
    ours: ours.grads.map((g) => g.dataSync().slice()),
    ref: ref.grads.map((g) => g.dataSync().slice()),
    probs: [ours.probs.dataSync().slice(), ref.probs.dataSync().slice()],
  };
  tf.dispose([x, y, ours.grads, ours.probs, ref.grads, ref.probs]);
  return out;
}

function expectSame(r: ReturnType<typeof bothPaths>, tolerance: number): void {
  expect(r.ours.length).toBe(r.ref.length);
  r.ours.forEach((g, i) => {
    const ref = r.ref[i] as Float32Array;
    const scale = Math.max(1e-3, ...Array.from(ref, Math.abs));
    expect(g.length).toBe(ref.length);
    expect(maxAbsDiff(g, ref) / scale).toBeLessThan(tolerance);
  });
  expect(maxAbsDiff(r.probs[0] as Float32Array, r.probs[1] as Float32Array)).toBeLessThan(1e-5);
}

describe('planConv', () => {
  it('takes the plain convnets and leaves dense models and BatchNorm to their paths', async () => {
    await tf.setBackend('cpu');
    const lenet = planConv(buildModel({ name: 'lenet5', ...shapes }));
    expect(lenet?.stages.map((s) => s.kind)).toEqual([
      'conv',
      'avgPool',
      'conv',
      'avgPool',
      'flatten',
      'dense',
      'dense',
      'dense',
    ]);
    expect(lenet?.vars.length).toBe(10);
    const small = planConv(buildModel({ name: 'small-cnn', ...shapes }));
    expect(small?.stages.map((s) => s.kind)).toEqual([
      'conv',
      'maxPool',
      'conv',
      'maxPool',
      'flatten',
      'dense',
      'dropout',
      'dense',
    ]);
    expect(planConv(buildModel({ name: 'sign-cnn', ...shapes, numClasses: 24 }))).toBeNull();
    expect(planConv(buildModel({ name: 'mlp', ...shapes }))).toBeNull();
  });

  it('refuses what it does not compute: a dilated convolution, a hidden Activation layer', async () => {
    await tf.setBackend('cpu');
    const model = (layers: tfl.layers.Layer[]) => {
      const m = tfl.sequential({ layers });
      m.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
      return m;
    };
    const head = () => [tfl.layers.flatten(), tfl.layers.dense({ units: 3, activation: 'softmax' })];
    const input = { inputShape: [8, 8, 1] };
    expect(
      planConv(model([tfl.layers.conv2d({ ...input, filters: 2, kernelSize: 3 }), ...head()])),
    ).not.toBeNull();
    expect(
      planConv(
        model([tfl.layers.conv2d({ ...input, filters: 2, kernelSize: 3, dilationRate: 2 }), ...head()]),
      ),
    ).toBeNull();
    expect(
      planConv(
        model([
          tfl.layers.conv2d({ ...input, filters: 2, kernelSize: 3 }),
          tfl.layers.activation({ activation: 'relu' }),
          ...head(),
        ]),
      ),
    ).toBeNull();
    expect(
      planConv(
        model([tfl.layers.conv2d({ ...input, filters: 2, kernelSize: 3, useBias: false }), ...head()]),
      ),
    ).toBeNull();
  });
});

describe('convGradients equals tf.variableGrads through the layers', () => {
  it('lenet5 (tanh, average pooling) on cpu', async () => {
    await tf.setBackend('cpu');
    expectSame(bothPaths(buildModel({ name: 'lenet5', ...shapes }), 0), 1e-5);
  });

  it('small-cnn (relu, max pooling, dropout 0.5: the same masks at every step) on cpu', async () => {
    await tf.setBackend('cpu');
    const model = buildModel({ name: 'small-cnn', ...shapes, width: 16 });
    expectSame(bothPaths(model, 0), 1e-5);
    expectSame(bothPaths(model, 7), 1e-5);
  });

  it('strided sigmoid convolutions with same pooling, on cpu', async () => {
    await tf.setBackend('cpu');
    const m = tfl.sequential({
      layers: [
        tfl.layers.conv2d({
          inputShape: [28, 28, 1],
          filters: 4,
          kernelSize: 3,
          strides: 2,
          padding: 'same',
          activation: 'sigmoid',
        }),
        tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }),
        tfl.layers.conv2d({ filters: 5, kernelSize: 2, activation: 'linear' }),
        tfl.layers.averagePooling2d({ poolSize: 2 }),
        tfl.layers.flatten(),
        tfl.layers.dense({ units: 10 }),
        tfl.layers.activation({ activation: 'softmax' }),
      ],
    });
    m.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
    expectSame(bothPaths(m, 0), 1e-5);
  });

  it('lenet5 and small-cnn on wasm with Chorus kernels', async () => {
    registerChorusWasmKernels();
    await useWasmBackend();
    expectSame(bothPaths(buildModel({ name: 'lenet5', ...shapes }), 0, 16), 1e-4);
    expectSame(bothPaths(buildModel({ name: 'small-cnn', ...shapes, width: 16 }), 3, 16), 1e-4);
  });
});
