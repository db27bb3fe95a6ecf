import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { ModelError } from './errors';

/**
 * Softmax probabilities of `model` (inference mode: no dropout, BatchNorm on moving statistics) for
 * the N samples in `x` (N × prod(inputShape)); returns N×C rows. Runs in batches of `batchSize`,
 * each read with `await data()` (a GPU backend cannot be read synchronously in Node).
 */
export async function predictProbabilities(
  model: tfl.LayersModel,
  x: Float32Array,
  inputShape: number[],
  batchSize = 256,
): Promise<Float32Array> {
  const featureSize = inputShape.reduce((a, b) => a * b, 1);
  if (!(featureSize > 0) || x.length % featureSize !== 0) {
    throw new ModelError('invalid-data', `x has ${x.length} values, not a multiple of [${inputShape}]`);
  }
  const modelInput = (model.inputs[0]?.shape.slice(1) ?? []) as number[];
  if (modelInput.reduce((a, b) => a * b, 1) !== featureSize) {
    throw new ModelError(
      'invalid-data',
      `the model takes inputs of shape [${modelInput}], not [${inputShape}]`,
    );
  }
  const classes = model.outputs[0]?.shape[1] as number;
  const count = x.length / featureSize;
  const out = new Float32Array(count * classes);
  const step = Math.max(1, Math.floor(batchSize));
  for (let start = 0; start < count; start += step) {
    const n = Math.min(step, count - start);
    const rows = tf.tidy(() => {
      const batch = tf.tensor(x.subarray(start * featureSize, (start + n) * featureSize), [n, ...modelInput]);
      return model.apply(batch, { training: false }) as tf.Tensor;
    });
    try {
      out.set((await rows.data()) as Float32Array, start * classes);
    } finally {
      rows.dispose();
    }
  }
  return out;
}
