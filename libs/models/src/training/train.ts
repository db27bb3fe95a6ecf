/**
 * The training loop of a worker: it consumes mini-batches of row indices (the shard plan decides
 * which and in what order; this loop never shuffles), trains one step per batch, and reports
 * throttled metrics. Where the time goes on cpu/wasm at batch 64, and what this loop does about it:
 * - kernel dispatch and XNNPACK's re-packing of weights dominate small models → dense members take
 *   a hand-written forward/backward (dense-host.ts on cpu/wasm, dense-plan.ts elsewhere), and plain
 *   convnets a tape-free one on cpu/wasm (conv-plan.ts: no input gradient for the batch itself);
 * - tfjs' Adam is ~12 kernels per variable → one fused pass per variable (optimizer.ts, wasm-adam.ts);
 * - no `dataSync` of the loss per step where a read stalls the device (metrics.ts);
 * - batch rows are copied into reused buffers (batch.ts), not gathered by kernels.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { ModelError } from '../errors';
import { autodiffGradients } from './autodiff';
import { convGradients } from './conv-plan';
import { BatchGatherer, checkTrainingData } from './batch';
import type { TrainingData } from './batch';
import { denseGradientsHost } from './dense-host';
import { denseGradients } from './dense-plan';
import { fillDropoutMask, stepSeed, withStepSeeds } from './dropout';
import { hostMemory } from './host-memory';
import type { HostMemory } from './host-memory';
import { makeAccumulator } from './metrics';
import { stateOf } from './trainer-state';
import type { TrainerState } from './trainer-state';
import { yieldToEventLoop } from '../yield';

export type { TrainingData } from './batch';

export interface BatchMetrics {
  /** Steps this model has trained in all calls so far, a restored checkpoint's included (the step just finished). */
  step: number;
  /** Mean cross-entropy of the batches since the previous report. */
  loss: number;
  /** Accuracy of the batches since the previous report. */
  accuracy: number;
  /** Samples trained in this call so far. */
  samples: number;
  /** Throughput since the previous report. */
  samplesPerSecond: number;
}

export interface TrainOptions {
  model: tfl.LayersModel;
  data: TrainingData;
  batches: Iterable<Int32Array> | AsyncIterable<Int32Array>;
  onBatch?: (m: BatchMetrics) => void | Promise<void>;
  /** Report every this many steps (and after the last one). Default 20. */
  metricsEvery?: number;
  /** Abort between steps; the call then rejects with `signal.reason`. */
  signal?: AbortSignal;
  /**
   * 'auto' (default): the dense or convnet fast path where the model allows it. 'autodiff':
   * always `tf.variableGrads` (for comparisons and benchmarks).
   */
  engine?: 'auto' | 'autodiff';
}

export interface TrainResult {
  steps: number;
  samples: number;
  seconds: number;
  /** Mean cross-entropy over all batches of this call. */
  loss: number;
  accuracy: number;
}

function checkModelFits(model: tfl.LayersModel, data: TrainingData, featureSize: number): number[] {
  if (model.optimizer == null) {
    throw new ModelError('invalid-config', 'the model is not compiled (buildModel returns compiled models)');
  }
  const input = model.inputs[0]?.shape.slice(1) ?? [];
  const inputSize = input.reduce<number>((a, b) => a * (b ?? NaN), 1);
  if (model.inputs.length !== 1 || inputSize !== featureSize) {
    throw new ModelError(
      'invalid-data',
      `the model takes inputs of shape [${input}] but the data has samples of shape [${data.inputShape}]`,
    );
  }
  const classes = model.outputs[0]?.shape[1];
  if (model.outputs.length !== 1 || classes !== data.numClasses) {
    throw new ModelError(
      'invalid-data',
      `the model outputs ${classes} classes but the data has ${data.numClasses}`,
    );
  }
  return input as number[];
}

/** What a step leaves for the metrics: the batch's softmax rows, or its scores already computed. */
type StepOutcome = { probs: tf.Tensor2D } | { loss: number; correct: number };

function trainStep(
  model: tfl.LayersModel,
  state: TrainerState,
  memory: HostMemory | null,
  /** Whether the fast paths may be taken (engine 'auto'). */
  fast: boolean,
  x: tf.Tensor,
  /** One-hot labels (not needed by the host-memory dense path). */
  y: tf.Tensor2D | null,
  labels: Int32Array,
): StepOutcome {
  const step = state.step;
  const dense = fast ? state.dense : null;
  let grads: tf.Tensor[];
  let vars: tf.Variable[];
  let outcome: StepOutcome;
  if (dense !== null && memory !== null) {
    const seeds = state.denseDropoutSeeds.map((seed) => stepSeed(seed, step));
    const r = denseGradientsHost(dense, memory, x as tf.Tensor2D, labels, seeds, state.masks);
    grads = r.grads;
    vars = dense.vars;
    outcome = { loss: r.loss, correct: r.correct };
  } else if (dense !== null) {
    const batch = x.shape[0];
    const masks = dense.stages.slice(0, -1).map((stage, i) => {
      if (stage.dropout === null) return null;
      const buffer = state.masks.get(i, batch * stage.units);
      fillDropoutMask(buffer, stage.dropout.rate, stepSeed(state.denseDropoutSeeds[i] as number, step));
      return tf.tensor2d(buffer, [batch, stage.units]);
    });
    try {
      const r = denseGradients(dense, x as tf.Tensor2D, y as tf.Tensor2D, masks);
      grads = r.grads;
      outcome = { probs: r.probs };
    } finally {
      for (const m of masks) m?.dispose();
    }
    vars = dense.vars;
  } else if (fast && state.conv !== null && memory !== null) {
    const r = convGradients(state.conv, x as tf.Tensor4D, y as tf.Tensor2D, step);
    grads = r.grads;
    vars = state.conv.vars;
    outcome = { probs: r.probs };
  } else {
    const plan = state.generic;
    const r = withStepSeeds(model.layers, plan.dropoutSeeds, step, () =>
      autodiffGradients(model, plan, x, y as tf.Tensor2D),
    );
    grads = r.grads;
    vars = plan.vars;
    outcome = { probs: r.probs };
  }
  try {
    state.updater.apply(vars, grads);
  } finally {
    tf.dispose(grads);
  }
  state.step++;
  return outcome;
}

const YIELD_EVERY_MS = 20;

/**
 * Trains `model` on the given mini-batches (one optimizer step each). Metrics go to `onBatch`
 * every `metricsEvery` steps and after the last; the event loop gets a turn at least every 20 ms.
 * Leaves no tensors behind.
 */
export async function trainOnBatches(o: TrainOptions): Promise<TrainResult> {
  const { model, data, signal } = o;
  const metricsEvery = Math.max(1, Math.floor(o.metricsEvery ?? 20));
  const featureSize = checkTrainingData(data);
  const inputShape = checkModelFits(model, data, featureSize);
  const state = stateOf(model);
  const fast = (o.engine ?? 'auto') === 'auto';
  const useDense = fast && state.dense !== null;
  const gatherer = new BatchGatherer(data, featureSize);
  const memory = hostMemory();
  const window = makeAccumulator(memory);
  const classes = data.numClasses;

  const start = performance.now();
  let lastYield = start;
  let windowStart = start;
  let steps = 0;
  let samples = 0;
  let sinceReport = 0;
  let totalLoss = 0;
  let totalCorrect = 0;
  let totalSamples = 0;

  const report = async (): Promise<void> => {
    const now = performance.now();
    const t = await window.take();
    totalLoss += t.loss;
    totalCorrect += t.correct;
    totalSamples += t.samples;
    const seconds = (now - windowStart) / 1000;
    windowStart = now;
    sinceReport = 0;
    await o.onBatch?.({
      step: state.step,
      loss: t.samples > 0 ? t.loss / t.samples : NaN,
      accuracy: t.samples > 0 ? t.correct / t.samples : NaN,
      samples,
      samplesPerSecond: seconds > 0 ? t.samples / seconds : 0,
    });
  };

  try {
    for await (const indices of o.batches) {
      signal?.throwIfAborted();
      if (indices.length === 0) continue;
      const batch = gatherer.gather(indices);
      const shape = useDense ? [batch.size, featureSize] : [batch.size, ...inputShape];
      const x = tf.tensor(batch.x, shape, 'float32');
      const y = useDense && memory !== null ? null : tf.tensor2d(batch.y, [batch.size, classes]);
      let outcome: StepOutcome;
      try {
        outcome = trainStep(model, state, memory, fast, x, y, batch.labels);
      } finally {
        x.dispose();
        y?.dispose();
      }
      if ('probs' in outcome) {
        try {
          window.add(outcome.probs, batch.labels);
        } finally {
          outcome.probs.dispose();
        }
      } else {
        window.addScores(outcome.loss, outcome.correct, batch.size);
      }
      steps++;
      samples += batch.size;
      sinceReport++;
      if (sinceReport >= metricsEvery) await report();
      if (performance.now() - lastYield >= YIELD_EVERY_MS) {
        await yieldToEventLoop();
        lastYield = performance.now();
      }
    }
    signal?.throwIfAborted();
    if (sinceReport > 0) await report();
  } finally {
    window.dispose();
  }
  return {
    steps,
    samples,
    seconds: (performance.now() - start) / 1000,
    loss: totalSamples > 0 ? totalLoss / totalSamples : NaN,
    accuracy: totalSamples > 0 ? totalCorrect / totalSamples : NaN,
  };
}
