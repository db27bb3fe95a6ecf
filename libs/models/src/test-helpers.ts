/** Small deterministic datasets and batch plans for the tests of this package. */
import * as tf from '@tensorflow/tfjs-core';
import { mulberry32 } from './seeds';

export interface SyntheticData {
  x: Float32Array;
  y: Int32Array;
  inputShape: number[];
  numClasses: number;
  count: number;
}

/** Each class is a random [0,1] prototype; samples are prototypes plus noise, clipped to [0, 1]. */
export function syntheticData(
  count: number,
  inputShape: number[],
  numClasses: number,
  seed = 1,
  noise = 0.35,
): SyntheticData {
  const rand = mulberry32(seed);
  const f = inputShape.reduce((a, b) => a * b, 1);
  const prototypes = Array.from({ length: numClasses }, () => Float32Array.from({ length: f }, () => rand()));
  const x = new Float32Array(count * f);
  const y = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const c = i % numClasses;
    y[i] = c;
    const p = prototypes[c] as Float32Array;
    for (let j = 0; j < f; j++)
      x[i * f + j] = Math.min(1, Math.max(0, (p[j] as number) + noise * (rand() * 2 - 1)));
  }
  return { x, y, inputShape, numClasses, count };
}

/** `epochs` passes over 0..count−1 in a seeded order, in batches of `batchSize` (last one short). */
export function* batchPlan(count: number, batchSize: number, epochs = 1, seed = 7): Generator<Int32Array> {
  const rand = mulberry32(seed);
  for (let e = 0; e < epochs; e++) {
    const order = Int32Array.from({ length: count }, (_, i) => i);
    for (let i = count - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      const t = order[i] as number;
      order[i] = order[j] as number;
      order[j] = t;
    }
    for (let s = 0; s < count; s += batchSize) yield order.slice(s, Math.min(count, s + batchSize));
  }
}

/** Values of every weight of a model, by weight name. */
export function weightValues(model: {
  weights: { originalName: string; read(): tf.Tensor }[];
}): Map<string, Float32Array> {
  return new Map(model.weights.map((w) => [w.originalName, w.read().dataSync() as Float32Array]));
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}
