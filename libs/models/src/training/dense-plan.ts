/**
 * Fast path for the dense members (mlp, fashion-dnn, fashion-small): the forward and backward pass of
 * a stack of Dense(+Dropout) layers ending in softmax, written out as tfjs kernels without a
 * gradient tape. Per hidden layer that is one fused matmul+bias+activation forward and five kernels
 * backward, against ~13 kernels plus tape bookkeeping through `tf.variableGrads`; on the wasm backend
 * this kernel count, not arithmetic, bounds small models. The gradients are exactly those of the
 * mean softmax cross-entropy (checked against `tf.variableGrads` in dense-plan.test.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';

export type DenseActivation = 'relu' | 'sigmoid' | 'tanh' | 'linear';

export interface DenseStage {
  layer: tfl.layers.Layer;
  kernel: tf.Variable;
  bias: tf.Variable;
  activation: DenseActivation;
  units: number;
  /** The Dropout layer applied to this stage's output, if any (never on the output stage). */
  dropout: { layer: tfl.layers.Layer; rate: number } | null;
}

export interface DensePlan {
  /** Hidden stages, then the output stage (whose activation is softmax, applied by the loss). */
  stages: DenseStage[];
  /** [kernel0, bias0, kernel1, bias1, …] in stage order. */
  vars: tf.Variable[];
}

const ACTIVATIONS: readonly string[] = ['relu', 'sigmoid', 'tanh', 'linear'];

function config(layer: tfl.layers.Layer): Record<string, unknown> {
  return layer.getConfig() as Record<string, unknown>;
}

/**
 * The dense plan of `model`, or null when the model is anything else: layers must be
 * Flatten* (Dense [Dropout])* Dense(linear|softmax) [Activation(softmax)], dense layers
 * with bias and without regularizers or constraints.
 */
export function planDense(model: tfl.LayersModel): DensePlan | null {
  const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
  const stages: DenseStage[] = [];
  let i = 0;
  while (i < layers.length && (layers[i] as tfl.layers.Layer).getClassName() === 'Flatten') i++;
  // Without a Flatten, Dense would act on the last axis of a rank>1 input: not this plan.
  if (i === 0 && model.inputs[0]?.shape.length !== 2) return null;
  let softmaxSeen = false;
  for (; i < layers.length; i++) {
    const layer = layers[i] as tfl.layers.Layer;
    const c = config(layer);
    const kind = layer.getClassName();
    const last = stages[stages.length - 1];
    if (softmaxSeen) return null;
    if (kind === 'Dense') {
      const activation = String(c['activation']);
      if (!ACTIVATIONS.includes(activation) && activation !== 'softmax') return null;
      if (c['useBias'] !== true || layer.trainableWeights.length !== 2) return null;
      for (const key of [
        'kernelRegularizer',
        'biasRegularizer',
        'activityRegularizer',
        'kernelConstraint',
        'biasConstraint',
      ]) {
        if (c[key] != null) return null;
      }
      const [kernel, bias] = layer.trainableWeights as [tfl.LayerVariable, tfl.LayerVariable];
      stages.push({
        layer,
        kernel: kernel.read() as tf.Variable,
        bias: bias.read() as tf.Variable,
        activation: activation === 'softmax' ? 'linear' : (activation as DenseActivation),
        units: Number(c['units']),
        dropout: null,
      });
      if (activation === 'softmax') softmaxSeen = true;
    } else if (kind === 'Dropout') {
      if (last === undefined || last.dropout !== null || c['noiseShape'] != null) return null;
      const rate = Number(c['rate']);
      last.dropout = rate > 0 ? { layer, rate } : null;
    } else if (
      kind === 'Activation' &&
      c['activation'] === 'softmax' &&
      last !== undefined &&
      last.activation === 'linear'
    ) {
      softmaxSeen = true;
    } else {
      return null;
    }
  }
  const out = stages[stages.length - 1];
  if (!softmaxSeen || out === undefined || out.dropout !== null) return null;
  return { stages, vars: stages.flatMap((s) => [s.kernel, s.bias]) };
}

function forwardStage(h: tf.Tensor2D, s: DenseStage): tf.Tensor2D {
  const b = s.kernel as tf.Tensor2D;
  if (s.activation === 'tanh') return tf.tanh(tf.fused.matMul({ a: h, b, bias: s.bias })) as tf.Tensor2D;
  return tf.fused.matMul({ a: h, b, bias: s.bias, activation: s.activation }) as tf.Tensor2D;
}

const GRADIENT_OF = { relu: 'Relu', sigmoid: 'Sigmoid', tanh: 'Tanh' } as const;

/**
 * dL/dz from dL/da for a = act(z), through the activation's registered gradient (on wasm, Chorus'
 * one-pass kernels: wasm-kernels/gradients.ts). Each is written with the output a: tanh and sigmoid
 * save their output, and ReLU's step(z) equals step(a).
 */
export function activationGrad<T extends tf.Tensor>(da: T, a: T, activation: DenseActivation): T {
  if (activation === 'linear') return da;
  const name = GRADIENT_OF[activation];
  const gradient = tf.getGradient(name);
  if (gradient === undefined)
    throw new Error(`no gradient registered for ${name} (import @tensorflow/tfjs-layers)`);
  return (gradient.gradFunc(da, [a], {}) as { x: () => T }).x();
}

export interface DenseStepResult {
  /** Gradients of the mean cross-entropy, ordered like `plan.vars`. */
  grads: tf.Tensor[];
  /** Softmax output of the batch (for metrics). */
  probs: tf.Tensor2D;
}

/**
 * One forward and backward pass in training mode. `masks[i]` is the dropout multiplier (0 or
 * 1/(1−rate)) of hidden stage i, shaped like its output, or null.
 */
export function denseGradients(
  plan: DensePlan,
  x: tf.Tensor2D,
  yOneHot: tf.Tensor2D,
  masks: (tf.Tensor2D | null)[],
): DenseStepResult {
  return tf.tidy(() => {
    const { stages } = plan;
    const last = stages.length - 1;
    const inputs: tf.Tensor2D[] = []; // input of each stage
    const acts: tf.Tensor2D[] = []; // activation of each hidden stage, before dropout
    let h = x;
    for (let i = 0; i < last; i++) {
      inputs.push(h);
      const a = forwardStage(h, stages[i] as DenseStage);
      acts.push(a);
      const mask = masks[i];
      h = mask == null ? a : tf.mul(a, mask);
    }
    inputs.push(h);
    const out = stages[last] as DenseStage;
    const logits = tf.fused.matMul({ a: h, b: out.kernel as tf.Tensor2D, bias: out.bias });
    const probs = tf.softmax(logits) as tf.Tensor2D;
    const batch = x.shape[0];
    // d(mean CE)/d logits = (softmax − onehot) / batch
    let dz: tf.Tensor2D = tf.mul(tf.sub(probs, yOneHot), tf.scalar(1 / batch));
    const grads: tf.Tensor[] = new Array<tf.Tensor>(plan.vars.length);
    for (let i = last; i >= 0; i--) {
      const stage = stages[i] as DenseStage;
      grads[2 * i] = tf.matMul(inputs[i] as tf.Tensor2D, dz, true, false);
      grads[2 * i + 1] = tf.sum(dz, 0);
      if (i > 0) {
        let da: tf.Tensor2D = tf.matMul(dz, stage.kernel as tf.Tensor2D, false, true);
        const mask = masks[i - 1];
        if (mask != null) da = tf.mul(da, mask);
        dz = activationGrad(da, acts[i - 1] as tf.Tensor2D, (stages[i - 1] as DenseStage).activation);
      }
    }
    return { grads, probs };
  });
}
