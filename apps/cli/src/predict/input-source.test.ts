import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import type { Preprocess } from '@chorus/protocol';
import { openInputs, type InputBatch } from './input-source';
import { formatOf, readLabels } from './read-inputs';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chorus-predict-inputs-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A .npy v1 file of `descr` values with `shape` (header padded to 64 bytes, as NumPy writes it). */
function npy(descr: string, shape: number[], data: ArrayBufferView): Uint8Array {
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${dims}, }`.padEnd(53, ' ') + '\n';
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(10 + header.length + bytes.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(bytes, 10 + header.length);
  return out;
}

/** An IDX file of unsigned bytes. */
function idx(dims: number[], data: number[]): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  out.set([0, 0, 0x08, dims.length]);
  dims.forEach((d, i) => new DataView(out.buffer).setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

const PLAIN: Preprocess = { rawRange: [0, 255], divisor: 1, normalize: null, image: null };

/** Every batch of an input file, `batchSize` rows at a time. */
async function batchesOf(path: string, inputShape: number[], batchSize = 1024): Promise<InputBatch[]> {
  const source = await openInputs(path, { inputShape, preprocess: PLAIN }, { invert: false });
  const out: InputBatch[] = [];
  for await (const batch of source.batches(batchSize)) out.push(batch);
  return out;
}

/** The whole input as one batch (what the batches add up to). */
async function readInputs(path: string, features: number, shape: number[] = [features]) {
  const batches = await batchesOf(path, shape);
  const x = Float32Array.from(batches.flatMap((b) => Array.from(b.x)));
  const count = batches.reduce((a, b) => a + b.n, 0);
  const labels = batches[0]?.labels ? Int32Array.from(batches.flatMap((b) => Array.from(b.labels ?? []))) : undefined;
  return labels ? { x, count, labels } : { x, count };
}

const file = async (name: string, content: string | Uint8Array) => {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
};

describe('chorus predict inputs', () => {
  it('tells formats by extension (gzipped too)', () => {
    expect(['a.csv', 'b.CSV.gz', 'c.npy', 'd.npy.gz', 't10k-images-idx3-ubyte.gz'].map(formatOf)).toEqual([
      'csv',
      'csv',
      'npy',
      'npy',
      'idx',
    ]);
  });

  it('takes a CSV label column: the one named label, else the last', async () => {
    const named = await readInputs(await file('named.csv', 'label,a,b\n2,10,20\n0,30,40\n'), 2);
    expect(named).toEqual({ x: Float32Array.of(10, 20, 30, 40), count: 2, labels: Int32Array.of(2, 0) });
    const last = await readInputs(await file('last.csv', '10,20,1\n30,40,0\n'), 2);
    expect(last).toEqual({ x: Float32Array.of(10, 20, 30, 40), count: 2, labels: Int32Array.of(1, 0) });
    expect(await readInputs(await file('plain.csv', '10,20\n'), 2)).toEqual({
      x: Float32Array.of(10, 20),
      count: 1,
    });
    await expect(readInputs(await file('frac.csv', '10,20,1.5\n'), 2)).rejects.toThrow(
      'the label of row 0 is 1.5, not a class number',
    );
  });

  it('reads .npy and IDX rows of any shape with the right number of values, and their labels', async () => {
    const x = Float32Array.of(0, 1, 2, 3, 4, 5, 6, 7);
    expect(await readInputs(await file('x.npy', npy('<f4', [2, 2, 2], x)), 4, [2, 2, 1])).toEqual({
      x,
      count: 2,
    });
    const images = await readInputs(
      await file('x-idx3-ubyte', idx([2, 2, 2], [0, 1, 2, 3, 4, 5, 6, 255])),
      4,
      [2, 2, 1],
    );
    expect(images).toEqual({ x: Float32Array.of(0, 1, 2, 3, 4, 5, 6, 255), count: 2 });
    expect(await readLabels(await file('y.npy', npy('<i8', [2], BigInt64Array.of(3n, 1n))), 2, 4)).toEqual(
      Int32Array.of(3, 1),
    );
    expect(await readLabels(await file('y-idx1-ubyte', idx([2], [1, 2])), 2, 4)).toEqual(Int32Array.of(1, 2));
    expect(await readLabels(await file('y.csv', '1\n0\n'), 2, 4)).toEqual(Int32Array.of(1, 0));
  });

  it('refuses a wrong feature count, and labels that do not fit', async () => {
    const path = await file('wide.npy', npy('<f4', [2, 3], new Float32Array(6)));
    await expect(readInputs(path, 4, [2, 2, 1])).rejects.toThrow(
      `${path}: an array of shape (2, 3) has 3 values a row; this ensemble takes 4 values a row (shape [2, 2, 1])`,
    );
    const few = await file('few.csv', '1\n');
    await expect(readLabels(few, 2, 4)).rejects.toThrow(`${few} holds 1 labels for 2 input rows`);
    const big = await file('big.csv', '1\n7\n');
    await expect(readLabels(big, 2, 4)).rejects.toThrow(`${big}: label 7 of row 1 is not a class 0–3`);
  });

  it('streams any format in batches that add up to the whole file', async () => {
    // 10 rows of 4 values, row r = [4r, 4r+1, 4r+2, 4r+3]: batches of 3 are rows 0–2, 3–5, 6–8, 9.
    const values = Array.from({ length: 40 }, (_, i) => i);
    const rows = Array.from({ length: 10 }, (_, r) => values.slice(4 * r, 4 * r + 4).join(','));
    const paths = [
      await file('ten.csv', `a,b,c,d\n${rows.join('\n')}\n`),
      await file('ten.csv.gz', gzipSync(`${rows.join('\r\n')}\r\n`)),
      await file('ten.npy', npy('<f4', [10, 4], Float32Array.from(values))),
      await file('ten-idx3-ubyte.gz', gzipSync(idx([10, 2, 2], values))),
    ];
    for (const path of paths) {
      const batches = await batchesOf(path, [2, 2, 1], 3);
      expect(batches.map((b) => b.n), path).toEqual([3, 3, 3, 1]);
      expect(batches.flatMap((b) => Array.from(b.x)), path).toEqual(values);
    }
  });

  it('refuses a cut-short binary file and a CSV field that is not a number, naming the line', async () => {
    const cut = await file('cut-idx3-ubyte', idx([3, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]));
    await expect(batchesOf(cut, [4])).rejects.toThrow(`${cut}: shape (3, 2, 2) needs 12 data bytes`);
    const long = await file('long-idx3-ubyte', idx([1, 2, 2], [1, 2, 3, 4, 5]));
    await expect(batchesOf(long, [4])).rejects.toThrow('trailing bytes');
    const word = await file('word.csv', '1,2\n3,x\n');
    await expect(batchesOf(word, [2])).rejects.toThrow(`${word}:2: column 2 is "x", not a number`);
    const ragged = await file('ragged.csv', '1,2\n3\n');
    await expect(batchesOf(ragged, [2])).rejects.toThrow(`${ragged}:2: expected 2 columns, found 1`);
    await expect(batchesOf(join(dir, 'none.csv'), [2])).rejects.toThrow('none.csv: file not found');
  });
});
