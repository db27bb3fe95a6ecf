import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ActivationName } from '@chorus/protocol';
import { buildModel } from '../models/registry';
import { maxAbsDiff } from '../test-helpers';
import { denseGradients, planDense } from './dense-plan';
import type { DensePlan } from './dense-plan';
import { denseGradientsHost, MaskBuffers } from './dense-host';
import { fillDropoutMask } from './dropout';
import { hostMemory } from './host-memory';
import { scoreRows } from './metrics';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The same loss through tfjs' autodiff: the plan's layers written with tfjs ops, masks applied. */
function referenceGradients(plan: DensePlan, x: tf.Tensor2D, y: tf.Tensor2D, masks: (tf.Tensor2D | null)[]) {
  return tf.tidy(() => {
    const { value, grads } = tf.variableGrads(() => {
      let h: tf.Tensor2D = x;
      plan.stages.forEach((s, i) => {
        h = tf.add(tf.matMul(h, s.kernel as tf.Tensor2D), s.bias);
        if (i < plan.stages.length - 1) {
          h =
            s.activation === 'relu'
              ? tf.relu(h)
              : s.activation === 'sigmoid'
                ? tf.sigmoid(h)
                : s.activation === 'tanh'
                  ? tf.tanh(h)
                  : h;
          const m = masks[i];
          if (m != null) h = tf.mul(h, m);
        }
      });
      return tf.losses.softmaxCrossEntropy(y, h) as tf.Scalar;
    }, plan.vars);
    value.dispose();
    return plan.vars.map((v) => grads[v.name] as tf.Tensor);
  });
}

describe('planDense', () => {
  it('recognises the dense members and refuses convnets', () => {
    const shapes = { inputShape: [28, 28, 1], numClasses: 10, seed: 1 };
    const mlp = buildModel({ name: 'mlp', ...shapes });
    const dnn = buildModel({ name: 'fashion-dnn', ...shapes, width: 51 });
    const cnn = buildModel({ name: 'lenet5', ...shapes });
    expect(planDense(mlp)?.stages.map((s) => [s.units, s.activation, s.dropout?.rate ?? 0])).toEqual([
      [50, 'relu', 0],
      [50, 'relu', 0],
      [50, 'relu', 0],
      [50, 'relu', 0],
      [10, 'linear', 0],
    ]);
    expect(planDense(dnn)?.stages.map((s) => s.dropout?.rate ?? 0)).toEqual([0.3, 0.3, 0.3, 0.3, 0]);
    expect(planDense(dnn)?.vars.length).toBe(10);
    expect(planDense(cnn)).toBeNull();
    for (const m of [mlp, dnn, cnn]) m.dispose();
  });
});

describe('denseGradients', () => {
  it.each<[ActivationName, number]>([
    ['relu', 0],
    ['sigmoid', 0],
    ['tanh', 0],
    ['relu', 0.4],
    ['tanh', 0.3],
  ])('equal tf.variableGrads of the mean cross-entropy (%s, dropout %s)', (activation, dropout) => {
    const model = buildModel({
      name: 'mlp',
      inputShape: [6, 5],
      numClasses: 4,
      seed: 3,
      activation,
      dropout,
      width: 20,
    });
    const plan = planDense(model);
    if (plan === null) throw new Error('no plan');
    const batch = 7;
    const before = tf.memory().numTensors;
    const x = tf.randomUniform([batch, 30], 0, 1, 'float32', 11) as tf.Tensor2D;
    const y = tf.tidy(
      () => tf.cast(tf.oneHot(tf.tensor1d([0, 1, 2, 3, 0, 1, 2], 'int32'), 4), 'float32') as tf.Tensor2D,
    );
    const masks = plan.stages
      .slice(0, -1)
      .map((s, i) =>
        s.dropout === null
          ? null
          : tf.tensor2d(fillDropoutMask(new Float32Array(batch * s.units), s.dropout.rate, 100 + i), [
              batch,
              s.units,
            ]),
      );
    const { grads, probs } = denseGradients(plan, x, y, masks);
    const expected = referenceGradients(plan, x, y, masks);
    grads.forEach((g, i) => {
      expect(g.shape).toEqual(plan.vars[i]?.shape);
      expect(maxAbsDiff(g.dataSync(), (expected[i] as tf.Tensor).dataSync())).toBeLessThan(1e-5);
    });
    const rows = tf.tidy(() => tf.sum(probs, 1).dataSync());
    rows.forEach((r) => expect(r).toBeCloseTo(1, 5));
    // The host-memory variant: same gradients (same dropout stream), and the batch's scores.
    const labels = Int32Array.of(0, 1, 2, 3, 0, 1, 2);
    const host = denseGradientsHost(plan, hostMemory()!, x, labels, [100, 101, 102, 103], new MaskBuffers());
    host.grads.forEach((g, i) => {
      expect(g.shape).toEqual(plan.vars[i]?.shape);
      expect(maxAbsDiff(g.dataSync(), (expected[i] as tf.Tensor).dataSync())).toBeLessThan(1e-5);
    });
    const scores = scoreRows(probs.dataSync() as Float32Array, labels, 4);
    expect(host.loss).toBeCloseTo(scores.loss, 4);
    expect(host.correct).toBe(scores.correct);
    tf.dispose([x, y, probs, ...grads, ...host.grads, ...expected, ...masks.filter((m) => m !== null)]);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});

describe('fillDropoutMask', () => {
  it('drops about `rate` of the units, scales the rest by 1/(1−rate), and is seeded', () => {
    const a = fillDropoutMask(new Float32Array(20_000), 0.3, 9);
    const kept = a.filter((v) => v > 0);
    expect(kept.length / a.length).toBeGreaterThan(0.68);
    expect(kept.length / a.length).toBeLessThan(0.72);
    kept.forEach((v) => expect(v).toBeCloseTo(1 / 0.7, 6));
    expect(fillDropoutMask(new Float32Array(100), 0.3, 9)).toEqual(a.subarray(0, 100));
    expect(fillDropoutMask(new Float32Array(100), 0.3, 10)).not.toEqual(a.subarray(0, 100));
  });
});
