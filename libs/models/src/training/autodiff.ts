/**
 * The general training step: any tfjs model, gradients through `tf.variableGrads`, layers called
 * with `training: true` (dropout on, BatchNorm on batch statistics and updating its moving ones).
 * For a Sequential model ending in Activation('softmax') the loss is taken on the logits before it
 * (`tf.losses.softmaxCrossEntropy`: fused and numerically stable); otherwise on the probabilities
 * as Keras does (clipped at 1e-7).
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { baseDropoutSeed } from './dropout';

export interface GenericPlan {
  /** Layers to call in order (null: call the whole model). */
  layers: tfl.layers.Layer[] | null;
  /** Whether the layers end in logits (the final softmax layer left out). */
  logits: boolean;
  vars: tf.Variable[];
  dropoutSeeds: Map<tfl.layers.Layer, number>;
}

export function planGeneric(model: tfl.LayersModel): GenericPlan {
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const dropoutSeeds = new Map<tfl.layers.Layer, number>();
  for (const layer of model.layers) {
    if (layer.getClassName() === 'Dropout') dropoutSeeds.set(layer, baseDropoutSeed(layer));
  }
  if (model.getClassName() !== 'Sequential') return { layers: null, logits: false, vars, dropoutSeeds };
  const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
  const last = layers[layers.length - 1];
  const endsInSoftmax =
    last !== undefined &&
    last.getClassName() === 'Activation' &&
    (last.getConfig() as { activation?: unknown }).activation === 'softmax';
  return endsInSoftmax
    ? { layers: layers.slice(0, -1), logits: true, vars, dropoutSeeds }
    : { layers, logits: false, vars, dropoutSeeds };
}

export interface StepResult {
  grads: tf.Tensor[];
  probs: tf.Tensor2D;
}

export function autodiffGradients(
  model: tfl.LayersModel,
  plan: GenericPlan,
  x: tf.Tensor,
  yOneHot: tf.Tensor2D,
): StepResult {
  let output: tf.Tensor2D | null = null;
  const { value, grads } = tf.variableGrads(() => {
    let h: tf.Tensor;
    if (plan.layers === null) {
      h = model.apply(x, { training: true }) as tf.Tensor;
    } else {
      h = x;
      for (const layer of plan.layers) h = layer.apply(h, { training: true }) as tf.Tensor;
    }
    output = tf.keep(h as tf.Tensor2D);
    if (plan.logits) return tf.losses.softmaxCrossEntropy(yOneHot, h) as tf.Scalar;
    const p = tf.clipByValue(h, 1e-7, 1 - 1e-7);
    return tf.neg(tf.mean(tf.sum(tf.mul(yOneHot, tf.log(p)), -1))) as tf.Scalar;
  }, plan.vars);
  value.dispose();
  const out = output as unknown as tf.Tensor2D;
  const probs = plan.logits ? tf.tidy(() => tf.softmax(out)) : out;
  if (plan.logits) out.dispose();
  return { grads: plan.vars.map((v) => grads[v.name] as tf.Tensor), probs };
}
