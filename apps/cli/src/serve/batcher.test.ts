import { describe, expect, it } from 'vitest';
import { ChorusError } from '@chorus/protocol';
import { createBatcher } from './batcher';

/** A "model" whose answer for a row is the sum of its values: checks that each request gets its own rows. */
const sums = async (x: Float32Array, count: number): Promise<number[]> => {
  const features = x.length / count;
  return Array.from({ length: count }, (_, i) =>
    x.subarray(i * features, (i + 1) * features).reduce((a, b) => a + b, 0),
  );
};

describe('createBatcher', () => {
  it('answers requests made together with one call, each with its own rows', async () => {
    const calls: number[] = [];
    const batcher = createBatcher({
      features: 2,
      waitMs: 20,
      run: async (x, count) => {
        calls.push(count);
        return sums(x, count);
      },
    });
    // Made in one tick: the first one's wait (20 ms) collects the others.
    const answers = await Promise.all([
      batcher.predict(Float32Array.of(1, 2), 1),
      batcher.predict(Float32Array.of(10, 20, 30, 40), 2),
      batcher.predict(Float32Array.of(100, 200), 1),
    ]);
    expect(answers).toEqual([[3], [30, 70], [300]]);
    expect(calls).toEqual([4]);
    expect(batcher.stats()).toEqual({ batches: 1, rows: 4 });
  });

  it('starts a batch at maxBatchRows and never splits a request', async () => {
    const calls: number[] = [];
    const batcher = createBatcher({
      features: 1,
      waitMs: 60_000, // never reached: the batches fill up
      maxBatchRows: 3,
      run: async (x, count) => {
        calls.push(count);
        return sums(x, count);
      },
    });
    const answers = await Promise.all([
      batcher.predict(Float32Array.of(1, 2), 2),
      batcher.predict(Float32Array.of(3, 4), 2),
      batcher.predict(Float32Array.of(5), 1),
    ]);
    expect(answers).toEqual([[1, 2], [3, 4], [5]]);
    // 2 + 2 > 3: the second request waits for the next batch, with the third.
    expect(calls).toEqual([2, 3]);
  });

  it('rejects every request of a failed batch, and later batches still run', async () => {
    let fail = true;
    const batcher = createBatcher({
      features: 1,
      waitMs: 10,
      run: async (x, count) => {
        if (fail) throw new Error('model broke');
        return sums(x, count);
      },
    });
    const failed = await Promise.allSettled([
      batcher.predict(Float32Array.of(1), 1),
      batcher.predict(Float32Array.of(2), 1),
    ]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    await expect(batcher.predict(Float32Array.of(7), 1)).resolves.toEqual([7]);
  });

  it('refuses with unavailable when too many rows wait', async () => {
    const batcher = createBatcher({ features: 1, waitMs: 10, maxBatchRows: 2, maxQueuedRows: 2, run: sums });
    const first = batcher.predict(Float32Array.of(1), 1);
    const second = batcher.predict(Float32Array.of(1, 1), 2);
    await expect(second).rejects.toSatisfy((e) => e instanceof ChorusError && e.code === 'unavailable');
    await expect(first).resolves.toEqual([1]);
  });
});
