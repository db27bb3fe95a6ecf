import { describe, expect, it } from 'vitest';
import { bundleSha256, decodeDatasetBundle, encodeDatasetBundle } from './bundle';
import { loadDataset } from './registry';
import type { Dataset } from './types';

const sameBytes = (a: ArrayBufferView, b: ArrayBufferView): boolean =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

describe('dataset bundles', () => {
  it('round-trips MNIST bit-exactly at one byte per pixel, with a stable hash', async () => {
    const mnist = await loadDataset('mnist');
    const bundle = encodeDatasetBundle(mnist);
    expect(bundle.length).toBeLessThan(70_000 * 785 + 4096);
    const back = decodeDatasetBundle(bundle);
    // Byte comparison: vitest's deep equality is far too slow for 47 M floats.
    expect(sameBytes(back.train.x, mnist.train.x)).toBe(true);
    expect(sameBytes(back.test.x, mnist.test.x)).toBe(true);
    expect(sameBytes(back.test.y, mnist.test.y)).toBe(true);
    expect(back).toMatchObject({
      name: 'mnist',
      inputShape: [28, 28, 1],
      numClasses: 10,
      sha256: mnist.sha256,
    });
    expect(bundleSha256(encodeDatasetBundle(back))).toBe(bundleSha256(bundle));
  });

  it('keeps float data that is not a byte grid as float32', async () => {
    const synthetic = await loadDataset('synthetic', { seed: 3 });
    const back = decodeDatasetBundle(encodeDatasetBundle(synthetic));
    expect(back.train.x).toEqual(synthetic.train.x);
    expect(back.train.y).toEqual(synthetic.train.y);
  });

  it('rejects truncated, trailing and foreign bytes with a reason', () => {
    const tiny: Dataset = {
      name: 'synthetic',
      inputShape: [2],
      numClasses: 2,
      train: { x: new Float32Array([0, 1, 0.1, 0.25]), y: new Int32Array([0, 1]), count: 2 },
      test: { x: new Float32Array([1, 0]), y: new Int32Array([1]), count: 1 },
      sha256: 'f'.repeat(64),
      source: 'test',
    };
    const bundle = encodeDatasetBundle(tiny);
    expect(decodeDatasetBundle(bundle).train.x).toEqual(tiny.train.x);
    // As read from disk: a Node Buffer at an odd offset of a larger pool.
    const pooled = Buffer.concat([Buffer.from([7]), Buffer.from(bundle)]).subarray(1);
    expect(decodeDatasetBundle(pooled).train.x).toEqual(tiny.train.x);
    expect(() => decodeDatasetBundle(bundle.subarray(0, bundle.length - 1), 'x.bundle')).toThrow(
      /x\.bundle: truncated/,
    );
    const longer = new Uint8Array(bundle.length + 2);
    longer.set(bundle);
    expect(() => decodeDatasetBundle(longer)).toThrow(/trailing/);
    expect(() => decodeDatasetBundle(new TextEncoder().encode('hello world, not a bundle'))).toThrow(
      /not a Chorus/,
    );
  });
});
