/**
 * The seed convnets' shapes, built with tfjs-layers, for the wasm-kernel tests and benchmark only
 * (the real builders live elsewhere in libs/models).
 */
import * as tfl from '@tensorflow/tfjs-layers';

export type TestModelName = 'sign-cnn' | 'lenet5' | 'small-cnn';

export interface TestModelOptions {
  numClasses?: number;
  /** Seeds the Dropout layers, so that two builds (e.g. on two backends) drop the same units. */
  dropoutSeed?: number;
  /**
   * Seeds the Conv2D and Dense kernels' Glorot initialisers (layer i gets initSeed + i), so a test
   * starts from the same weights in every run. Unseeded, each build draws new weights.
   */
  initSeed?: number;
}

export function buildTestModel(name: TestModelName, options: TestModelOptions = {}): tfl.Sequential {
  const { numClasses, dropoutSeed, initSeed } = options;
  const dropout = (rate: number) =>
    tfl.layers.dropout({ rate, ...(dropoutSeed === undefined ? {} : { seed: dropoutSeed }) });
  let seeded = 0;
  const init = () =>
    initSeed === undefined
      ? {}
      : { kernelInitializer: tfl.initializers.glorotUniform({ seed: initSeed + seeded++ }) };
  const m = tfl.sequential();
  const inputShape = [28, 28, 1];
  if (name === 'sign-cnn') {
    m.add(
      tfl.layers.conv2d({
        ...init(),
        inputShape,
        filters: 75,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
      }),
    );
    m.add(tfl.layers.batchNormalization());
    m.add(tfl.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'same' }));
    m.add(tfl.layers.conv2d({ ...init(), filters: 50, kernelSize: 3, padding: 'same', activation: 'relu' }));
    m.add(dropout(0.2));
    m.add(tfl.layers.batchNormalization());
    m.add(tfl.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'same' }));
    m.add(tfl.layers.conv2d({ ...init(), filters: 25, kernelSize: 3, padding: 'same', activation: 'relu' }));
    m.add(tfl.layers.batchNormalization());
    m.add(tfl.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'same' }));
    m.add(tfl.layers.flatten());
    m.add(tfl.layers.dense({ ...init(), units: 512, activation: 'relu' }));
    m.add(dropout(0.3));
    m.add(tfl.layers.dense({ ...init(), units: numClasses ?? 24, activation: 'softmax' }));
  } else if (name === 'lenet5') {
    m.add(
      tfl.layers.conv2d({
        ...init(),
        inputShape,
        filters: 6,
        kernelSize: 5,
        padding: 'same',
        activation: 'tanh',
      }),
    );
    m.add(tfl.layers.averagePooling2d({ poolSize: 2, strides: 2 }));
    m.add(tfl.layers.conv2d({ ...init(), filters: 16, kernelSize: 5, padding: 'valid', activation: 'tanh' }));
    m.add(tfl.layers.averagePooling2d({ poolSize: 2, strides: 2 }));
    m.add(tfl.layers.flatten());
    m.add(tfl.layers.dense({ ...init(), units: 120, activation: 'tanh' }));
    m.add(tfl.layers.dense({ ...init(), units: 84, activation: 'tanh' }));
    m.add(tfl.layers.dense({ ...init(), units: numClasses ?? 10, activation: 'softmax' }));
  } else {
    m.add(tfl.layers.conv2d({ ...init(), inputShape, filters: 32, kernelSize: 3, activation: 'relu' }));
    m.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
    m.add(tfl.layers.conv2d({ ...init(), filters: 64, kernelSize: 3, activation: 'relu' }));
    m.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
    m.add(tfl.layers.flatten());
    m.add(tfl.layers.dense({ ...init(), units: 128, activation: 'relu' }));
    m.add(dropout(0.5));
    m.add(tfl.layers.dense({ ...init(), units: numClasses ?? 10, activation: 'softmax' }));
  }
  return m;
}
