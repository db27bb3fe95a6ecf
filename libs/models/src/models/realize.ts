import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Initializer, LayerSpec, ModelSpec } from './spec';
import { inferShapes } from './spec';
import { yieldToEventLoop } from '../yield';

/** Keras' default Adam/SGD settings (epsilon 1e-7), given explicitly so no backend is needed here. */
export function makeOptimizer(name: 'adam' | 'sgd', learningRate: number): tf.Optimizer {
  return name === 'adam' ? tf.train.adam(learningRate, 0.9, 0.999, 1e-7) : tf.train.sgd(learningRate);
}

function initializer(kind: Initializer, seed: number) {
  switch (kind) {
    case 'glorotUniform':
      return tfl.initializers.glorotUniform({ seed });
    case 'glorotNormal':
      return tfl.initializers.glorotNormal({ seed });
    case 'heNormal':
      return tfl.initializers.heNormal({ seed });
    case 'heUniform':
      return tfl.initializers.heUniform({ seed });
    case 'lecunNormal':
      return tfl.initializers.leCunNormal({ seed });
    case 'lecunUniform':
      return tfl.initializers.leCunUniform({ seed });
  }
}

function makeLayer(spec: LayerSpec, inputShape: number[] | undefined): tfl.layers.Layer {
  const base = { name: spec.name, ...(inputShape === undefined ? {} : { inputShape }) };
  switch (spec.kind) {
    case 'flatten':
      return tfl.layers.flatten(base);
    case 'dense':
      return tfl.layers.dense({
        ...base,
        units: spec.units,
        activation: spec.activation,
        kernelInitializer: initializer(spec.init, spec.seed),
        biasInitializer: 'zeros',
      });
    case 'conv2d':
      return tfl.layers.conv2d({
        ...base,
        filters: spec.filters,
        kernelSize: spec.kernelSize,
        padding: spec.padding,
        activation: spec.activation,
        kernelInitializer: initializer(spec.init, spec.seed),
        biasInitializer: 'zeros',
      });
    case 'maxPool':
      return tfl.layers.maxPooling2d({
        ...base,
        poolSize: spec.poolSize,
        strides: spec.strides,
        padding: spec.padding,
      });
    case 'avgPool':
      return tfl.layers.averagePooling2d({
        ...base,
        poolSize: spec.poolSize,
        strides: spec.strides,
        padding: spec.padding,
      });
    case 'batchNorm':
      return tfl.layers.batchNormalization({
        ...base,
        ...(spec.momentum === undefined ? {} : { momentum: spec.momentum }),
        ...(spec.epsilon === undefined ? {} : { epsilon: spec.epsilon }),
      });
    case 'activation':
      return tfl.layers.activation({ ...base, activation: spec.activation });
    case 'reshape':
      return tfl.layers.reshape({ ...base, targetShape: spec.targetShape });
    case 'dropout':
      // The seed makes masks reproducible; the training loop re-derives it every step (see training/dropout.ts).
      return tfl.layers.dropout({ ...base, rate: spec.rate, seed: spec.seed });
    case 'softmax':
      return tfl.layers.activation({ ...base, activation: 'softmax' });
  }
}

/**
 * Builds and compiles the tfjs model of a spec: categorical cross-entropy, accuracy, the spec's
 * optimizer. The output is a separate softmax layer after a linear dense layer (same parameters as
 * Keras' `Dense(C, activation='softmax')`), so training can use the logits directly.
 */
export function realizeModel(spec: ModelSpec): tfl.Sequential {
  inferShapes(spec); // throws a ModelError if the input does not fit
  const model = tfl.sequential({ name: spec.name });
  spec.layers.forEach((layer, i) => model.add(makeLayer(layer, i === 0 ? spec.inputShape : undefined)));
  return compiled(model, spec);
}

/**
 * `realizeModel`, the same model (same initial weights), with a turn of the event loop after each
 * layer: a layer's weights are initialised when it is added, which for a 2,900-unit dense layer
 * takes a few hundred milliseconds, so a worker's heartbeats run between layers.
 */
export async function realizeModelYielding(spec: ModelSpec): Promise<tfl.Sequential> {
  inferShapes(spec);
  const model = tfl.sequential({ name: spec.name });
  for (const [i, layer] of spec.layers.entries()) {
    model.add(makeLayer(layer, i === 0 ? spec.inputShape : undefined));
    await yieldToEventLoop();
  }
  return compiled(model, spec);
}

function compiled(model: tfl.Sequential, spec: ModelSpec): tfl.Sequential {
  model.compile({
    optimizer: makeOptimizer(spec.optimizer, spec.learningRate),
    loss: 'categoricalCrossentropy',
    metrics: ['accuracy'],
  });
  return model;
}
