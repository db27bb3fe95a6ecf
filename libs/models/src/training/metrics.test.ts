import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../backends/select';
import { hostMemory } from './host-memory';
import { makeAccumulator, scoreRows } from './metrics';

beforeAll(async () => {
  await selectBackend('cpu');
});

// Two samples, three classes, computed by hand:
//   row 0 = [0.7, 0.2, 0.1], label 0 → correct, −ln 0.7 = 0.356675
//   row 1 = [0.5, 0.4, 0.1], label 1 → wrong (argmax 0), −ln 0.4 = 0.916291
const probs = Float32Array.of(0.7, 0.2, 0.1, 0.5, 0.4, 0.1);
const labels = Int32Array.of(0, 1);

describe('batch metrics', () => {
  it('scoreRows: summed cross-entropy and hits', () => {
    const s = scoreRows(probs, labels, 3);
    expect(s.correct).toBe(1);
    expect(s.loss).toBeCloseTo(0.356675 + 0.916291, 5);
    // Keras clips at 1e-7: a zero probability costs −ln 1e-7, not infinity.
    expect(scoreRows(Float32Array.of(1, 0), Int32Array.of(1), 2).loss).toBeCloseTo(-Math.log(1e-7), 4);
  });

  it('host and device accumulators agree and reset on take()', async () => {
    const p = tf.tensor2d(probs, [2, 3]);
    const before = tf.memory().numTensors;
    for (const acc of [makeAccumulator(hostMemory()), makeAccumulator(null)]) {
      acc.add(p, labels);
      acc.add(p, labels);
      acc.addScores(1.5, 2, 4);
      const t = await acc.take();
      expect(t.samples).toBe(8);
      expect(t.correct).toBe(4);
      expect(t.loss).toBeCloseTo(2 * (0.356675 + 0.916291) + 1.5, 4);
      expect(await acc.take()).toEqual({ loss: 0, correct: 0, samples: 0 });
      acc.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    p.dispose();
  });
});
