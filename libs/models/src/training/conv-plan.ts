/**
 * The tape-free training step of plain convnets (lenet5, small-cnn, model files of the same
 * shape): Conv2D, pooling, Dropout and Flatten layers, then the dense stages, ending in softmax.
 * The forward pass keeps what the backward pass needs, and the backward pass calls the gradient
 * kernels itself, in reverse order. Against `tf.variableGrads` (autodiff.ts) this skips:
 * - the first convolution's input gradient (Conv2DBackpropInput of the batch itself): the fused
 *   convolution's custom gradient computes it, and the tape throws it away — on LeNet-5 that is
 *   the second most expensive kernel of the step;
 * - the tape's bookkeeping of ~150 kernels per step, and the tidy scopes of the layers' calls.
 * The forward pass is the layers' own (the same kernels in the same order, dropout masks drawn as
 * tfjs' Dropout draws them), so the gradients are those of `tf.variableGrads` up to float rounding
 * in the loss (conv-plan.test.ts). Layers with state of their own (BatchNorm) or anything else
 * leave the model on the autodiff path.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { DenseActivation } from './dense-plan';
import { activationGrad } from './dense-plan';
import { baseDropoutSeed, stepSeed } from './dropout';

type Pair = [number, number];

interface ConvStage {
  kind: 'conv';
  kernel: tf.Variable;
  bias: tf.Variable;
  activation: DenseActivation;
  strides: Pair;
  pad: 'same' | 'valid';
}
interface PoolStage {
  kind: 'maxPool' | 'avgPool';
  poolSize: Pair;
  strides: Pair;
  pad: 'same' | 'valid';
}
interface DropoutStage {
  kind: 'dropout';
  rate: number;
  /** The layer's base seed; each step's mask uses `stepSeed(seed, step)`. */
  seed: number;
}
interface FlattenStage {
  kind: 'flatten';
}
interface DenseStage {
  kind: 'dense';
  kernel: tf.Variable;
  bias: tf.Variable;
  activation: DenseActivation;
  /** The output layer's own softmax (applied by the loss, so `activation` is linear). */
  softmax: boolean;
}
export type ConvPlanStage = ConvStage | PoolStage | DropoutStage | FlattenStage | DenseStage;

export interface ConvPlan {
  /** The layers in order; the last is the output Dense, its softmax applied by the loss. */
  stages: ConvPlanStage[];
  /** The trainable variables, in the model's `trainableWeights` order. */
  vars: tf.Variable[];
}

const ACTIVATIONS: readonly string[] = ['relu', 'sigmoid', 'tanh', 'linear'];
const CONSTRAINTS = [
  'kernelRegularizer',
  'biasRegularizer',
  'activityRegularizer',
  'kernelConstraint',
  'biasConstraint',
];

const pair = (v: unknown): Pair | null => {
  const a = Array.isArray(v) ? v : [v, v];
  return a.length === 2 && a.every((n) => Number.isInteger(n) && (n as number) > 0) ? (a as Pair) : null;
};

/** Weights of a Conv2D/Dense layer with bias and a plain activation, or null. */
function weighted(
  layer: tfl.layers.Layer,
  c: Record<string, unknown>,
): { kernel: tf.Variable; bias: tf.Variable; activation: string } | null {
  const activation = String(c['activation']);
  if (!ACTIVATIONS.includes(activation) && activation !== 'softmax') return null;
  if (c['useBias'] !== true || layer.trainableWeights.length !== 2) return null;
  if (CONSTRAINTS.some((key) => c[key] != null)) return null;
  const [kernel, bias] = layer.trainableWeights as [tfl.LayerVariable, tfl.LayerVariable];
  return { kernel: kernel.read() as tf.Variable, bias: bias.read() as tf.Variable, activation };
}

function stageOf(layer: tfl.layers.Layer): ConvPlanStage | 'softmax' | null {
  const c = layer.getConfig() as Record<string, unknown>;
  const channelsLast = c['dataFormat'] == null || c['dataFormat'] === 'channelsLast';
  switch (layer.getClassName()) {
    case 'Conv2D': {
      const w = weighted(layer, c);
      const strides = pair(c['strides']);
      const dilation = pair(c['dilationRate'] ?? 1);
      const pad = c['padding'];
      if (w === null || w.activation === 'softmax' || strides === null || !channelsLast) return null;
      if (dilation === null || dilation[0] !== 1 || dilation[1] !== 1) return null;
      if (pad !== 'same' && pad !== 'valid') return null;
      const { kernel, bias } = w;
      return { kind: 'conv', kernel, bias, activation: w.activation as DenseActivation, strides, pad };
    }
    case 'MaxPooling2D':
    case 'AveragePooling2D': {
      const poolSize = pair(c['poolSize']);
      const strides = pair(c['strides'] ?? c['poolSize']);
      const pad = c['padding'];
      if (poolSize === null || strides === null || !channelsLast || (pad !== 'same' && pad !== 'valid'))
        return null;
      return {
        kind: layer.getClassName() === 'MaxPooling2D' ? 'maxPool' : 'avgPool',
        poolSize,
        strides,
        pad,
      };
    }
    case 'Dropout': {
      const rate = Number(c['rate']);
      if (c['noiseShape'] != null || !(rate >= 0 && rate < 1)) return null;
      return { kind: 'dropout', rate, seed: baseDropoutSeed(layer) };
    }
    case 'Flatten':
      return { kind: 'flatten' };
    case 'Dense': {
      const w = weighted(layer, c);
      if (w === null) return null;
      const softmax = w.activation === 'softmax';
      const activation = softmax ? 'linear' : (w.activation as DenseActivation);
      return { kind: 'dense', kernel: w.kernel, bias: w.bias, activation, softmax };
    }
    case 'Activation':
      return c['activation'] === 'softmax' ? 'softmax' : null;
    default:
      return null;
  }
}

/**
 * The conv plan of `model`, or null: a Sequential model on [H, W, C] images whose layers are
 * Conv2D (bias, relu/tanh/sigmoid/linear, channels last, no dilation), Max/AveragePooling2D,
 * Dropout and Flatten, at least one Conv2D, then Dense layers, the last one ending in softmax
 * (its own activation or an Activation('softmax') after a linear one); no regularizers or
 * constraints.
 */
export function planConv(model: tfl.LayersModel): ConvPlan | null {
  if (model.getClassName() !== 'Sequential' || model.inputs[0]?.shape.length !== 4) return null;
  const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
  const stages: ConvPlanStage[] = [];
  let softmax = false;
  let flat = false;
  for (const layer of layers) {
    if (softmax) return null;
    const stage = stageOf(layer);
    if (stage === null) return null;
    const last = stages[stages.length - 1];
    if (stage === 'softmax') {
      if (last?.kind !== 'dense' || last.activation !== 'linear') return null;
      softmax = true;
      continue;
    }
    // Image stages before the Flatten, dense ones after it (Dense on a rank-4 tensor is not this plan).
    if (stage.kind === 'conv' || stage.kind === 'maxPool' || stage.kind === 'avgPool') {
      if (flat) return null;
    } else if (stage.kind === 'dense') {
      if (!flat) return null;
    } else if (stage.kind === 'flatten') {
      if (flat) return null;
      flat = true;
    }
    if (stage.kind === 'dense' && stage.softmax) softmax = true;
    stages.push(stage);
  }
  const out = stages[stages.length - 1];
  if (!softmax || out?.kind !== 'dense' || !stages.some((s) => s.kind === 'conv')) return null;
  return { stages, vars: model.trainableWeights.map((w) => w.read() as tf.Variable) };
}

type Attrs = tf.NamedAttrMap;
const run = (name: string, inputs: tf.NamedTensorMap, attrs: object): tf.Tensor =>
  tf.engine().runKernel(name, inputs, attrs as unknown as Attrs) as tf.Tensor;

/** a = act(z) of a conv stage: relu and linear fuse into the convolution, as the layer does. */
function convForward(h: tf.Tensor4D, s: ConvStage): tf.Tensor4D {
  const fused = s.activation === 'relu' ? 'relu' : 'linear';
  const filter = s.kernel as tf.Tensor4D;
  const z = tf.fused.conv2d({
    x: h,
    filter,
    strides: s.strides,
    pad: s.pad,
    bias: s.bias,
    activation: fused,
  });
  if (s.activation === 'tanh') return tf.tanh(z);
  if (s.activation === 'sigmoid') return tf.sigmoid(z);
  return z;
}

/** The multiplier tfjs' `tf.dropout` draws (the same kernels, so the same values): 0 or 1/(1−rate). */
function dropoutMask(shape: number[], rate: number, seed: number): tf.Tensor {
  const keep = 1 - rate;
  return tf.div(tf.floor(tf.add(tf.randomUniform(shape, 0, 1, 'float32', seed), keep)), keep);
}

export interface ConvStepResult {
  /** Gradients of the mean softmax cross-entropy, ordered like `plan.vars`. */
  grads: tf.Tensor[];
  /** Softmax output of the batch (for metrics). */
  probs: tf.Tensor2D;
}

/** One forward and backward pass in training mode at training step `step` (dropout seeds). */
export function convGradients(
  plan: ConvPlan,
  x: tf.Tensor4D,
  yOneHot: tf.Tensor2D,
  step: number,
): ConvStepResult {
  return tf.tidy(() => {
    const { stages } = plan;
    // inputs[i]: stage i's input; outputs[i]: its output (masks[i] for a dropout stage).
    const inputs: tf.Tensor[] = [];
    const outputs: tf.Tensor[] = [];
    let h: tf.Tensor = x;
    for (const s of stages) {
      inputs.push(h);
      switch (s.kind) {
        case 'conv':
          h = convForward(h as tf.Tensor4D, s);
          break;
        case 'maxPool':
          h = tf.maxPool(h as tf.Tensor4D, s.poolSize, s.strides, s.pad);
          break;
        case 'avgPool':
          h = tf.avgPool(h as tf.Tensor4D, s.poolSize, s.strides, s.pad);
          break;
        case 'dropout':
          if (s.rate > 0) {
            const mask = dropoutMask(h.shape, s.rate, stepSeed(s.seed, step));
            outputs.push(mask);
            h = tf.mul(h, mask);
            continue;
          }
          break;
        case 'flatten':
          h = tf.reshape(h, [h.shape[0] as number, -1]);
          break;
        case 'dense': {
          const b = s.kernel as tf.Tensor2D;
          const a = h as tf.Tensor2D;
          h =
            s.activation === 'tanh'
              ? tf.tanh(tf.fused.matMul({ a, b, bias: s.bias }))
              : tf.fused.matMul({ a, b, bias: s.bias, activation: s.activation });
          break;
        }
      }
      outputs.push(h);
    }
    const probs = tf.softmax(h as tf.Tensor2D);
    const batch = x.shape[0];
    // d(mean CE)/d logits = (softmax − onehot) / batch; then dh walks the stages backwards.
    let dh: tf.Tensor = tf.mul(tf.sub(probs, yOneHot), tf.scalar(1 / batch));
    const grads = new Map<tf.Variable, tf.Tensor>();
    const firstWeighted = stages.findIndex((s) => s.kind === 'conv' || s.kind === 'dense');
    for (let i = stages.length - 1; i >= firstWeighted; i--) {
      const s = stages[i] as ConvPlanStage;
      const input = inputs[i] as tf.Tensor;
      const output = outputs[i] as tf.Tensor;
      switch (s.kind) {
        case 'dense': {
          const dz = activationGrad(dh as tf.Tensor2D, output as tf.Tensor2D, s.activation);
          grads.set(s.kernel, tf.matMul(input as tf.Tensor2D, dz, true, false));
          grads.set(s.bias, tf.sum(dz, 0));
          if (i > firstWeighted) dh = tf.matMul(dz, s.kernel as tf.Tensor2D, false, true);
          break;
        }
        case 'conv': {
          const dz = activationGrad(dh, output, s.activation);
          const conv = { strides: s.strides, pad: s.pad, dataFormat: 'NHWC', dimRoundingMode: undefined };
          grads.set(
            s.kernel,
            run('Conv2DBackpropFilter', { x: input, dy: dz }, { ...conv, filterShape: s.kernel.shape }),
          );
          grads.set(s.bias, tf.sum(dz, [0, 1, 2]));
          if (i > firstWeighted) {
            dh = run(
              'Conv2DBackpropInput',
              { dy: dz, filter: s.kernel },
              { ...conv, inputShape: input.shape },
            );
          }
          break;
        }
        case 'maxPool':
          dh = run(
            'MaxPoolGrad',
            { dy: dh, input, output },
            { filterSize: s.poolSize, strides: s.strides, pad: s.pad, dimRoundingMode: undefined },
          );
          break;
        case 'avgPool':
          dh = run(
            'AvgPoolGrad',
            { dy: dh, input },
            { filterSize: s.poolSize, strides: s.strides, pad: s.pad },
          );
          break;
        case 'dropout':
          if (s.rate > 0) dh = tf.mul(dh, output);
          break;
        case 'flatten':
          dh = tf.reshape(dh, input.shape);
          break;
      }
    }
    return { grads: plan.vars.map((v) => grads.get(v) as tf.Tensor), probs };
  });
}
