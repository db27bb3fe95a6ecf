import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import { DatasetError } from './errors';
import { loadNpyDataset } from './npy-dataset';
import { tempDir } from './test-helpers';

const { dir, cleanup } = tempDir('chorus-npy-');
afterAll(cleanup);

type Descr = '<f4' | '<f8' | '|u1' | '<i8' | '<i4' | '|i1' | '<f2' | '>f4' | '|O';

/** .npy v1 bytes as NumPy writes them: magic, version 1.0, a dict padded to 64 bytes, the data. */
function npy(descr: Descr, shape: number[], values: ArrayLike<number>): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const data = (() => {
    switch (descr) {
      case '<f4':
        return new Uint8Array(Float32Array.from(values).buffer);
      case '<f8':
        return new Uint8Array(Float64Array.from(values).buffer);
      case '<i8':
        return new Uint8Array(BigInt64Array.from(Array.from(values), (v) => BigInt(v)).buffer);
      case '<i4':
        return new Uint8Array(Int32Array.from(values).buffer);
      default:
        return Uint8Array.from(values);
    }
  })();
  const out = new Uint8Array(10 + header.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
  out.set(new TextEncoder().encode(header), 10);
  out.set(data, 10 + header.length);
  return out;
}

const range = (n: number, f: (i: number) => number = (i) => i) => Array.from({ length: n }, (_, i) => f(i));

function dataset(name: string, files: Partial<Record<'x_train' | 'y_train' | 'x_test' | 'y_test', Uint8Array>>): string {
  const d = join(dir, name);
  mkdirSync(d, { recursive: true });
  const all = {
    x_train: npy('<f4', [4, 3], range(12)),
    y_train: npy('<i8', [4], [5, 7, 5, 7]),
    x_test: npy('<f4', [2, 3], range(6, (i) => -i)),
    y_test: npy('<i8', [2], [7, 5]),
    ...files,
  };
  for (const [k, v] of Object.entries(all)) writeFileSync(join(d, `${k}.npy`), v);
  return d;
}

async function failure(work: Promise<unknown>): Promise<DatasetError> {
  try {
    await work;
  } catch (e) {
    if (e instanceof DatasetError) return e;
    throw e;
  }
  throw new Error('expected a DatasetError');
}

describe('loadNpyDataset', () => {
  it('reads flat float32 features and int64 labels (sorted values become classes)', async () => {
    const d = await loadNpyDataset({ path: dataset('flat', {}) });
    expect(d.name).toBe('npy');
    expect(d.inputShape).toEqual([3]);
    expect(d.classNames).toEqual(['5', '7']);
    expect(Array.from(d.train.y)).toEqual([0, 1, 0, 1]);
    expect(Array.from(d.test.y)).toEqual([1, 0]);
    expect(Array.from(d.train.x)).toEqual(range(12));
    expect(d.preprocess).toEqual({ normalize: 'none' });
  });

  it('reads uint8 images (N, H, W) as [H, W, 1] scaled by 1/255, float64 (N, H, W, C) as they are', async () => {
    const u8 = await loadNpyDataset({
      path: dataset('u8', {
        x_train: npy('|u1', [4, 2, 2], range(16, (i) => i * 17)),
        x_test: npy('|u1', [2, 2, 2], range(8)),
      }),
    });
    expect(u8.inputShape).toEqual([2, 2, 1]);
    expect(u8.train.x[1]).toBeCloseTo(17 / 255, 7);
    expect(u8.preprocess).toEqual({ normalize: 'none', scale: 255 });
    const f8 = await loadNpyDataset({
      path: dataset('f8', {
        x_train: npy('<f8', [4, 2, 1, 3], range(24, (i) => i / 4)),
        x_test: npy('<f8', [2, 2, 1, 3], range(12)),
        y_train: npy('<i4', [4, 1], [0, 1, 2, 0]),
        y_test: npy('|i1', [2], [2, 1]),
      }),
    });
    expect(f8.inputShape).toEqual([2, 1, 3]);
    expect(f8.train.x[5]).toBe(1.25);
    expect(f8.numClasses).toBe(3);
  });

  it('reads the four arrays from one .npz archive and standardises on request', async () => {
    const path = join(dir, 'data.npz');
    writeFileSync(
      path,
      zipSync({
        'x_train.npy': npy('<f4', [2, 1], [1, 3]),
        'y_train.npy': npy('<i8', [2], [0, 1]),
        'x_test.npy': npy('<f4', [1, 1], [5]),
        'y_test.npy': npy('<i8', [1], [1]),
      }),
    );
    const d = await loadNpyDataset({ path, normalize: 'standard' });
    // mean 2, std 1 (training rows only): 1 → -1, 3 → 1, test 5 → 3.
    expect(Array.from(d.train.x)).toEqual([-1, 1]);
    expect(Array.from(d.test.x)).toEqual([3]);
    expect(d.preprocess).toEqual({ normalize: 'standard', mean: [2], std: [1] });
  });
});

/** NumPy itself, when python3-numpy is installed: files written by the real writer. */
const hasNumpy = spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;

describe.skipIf(!hasNumpy)('loadNpyDataset on files NumPy wrote', () => {
  it('reads np.save files and an np.savez_compressed archive alike', async () => {
    const out = join(dir, 'numpy');
    mkdirSync(out);
    const script = [
      'import numpy as np, sys',
      'd = sys.argv[1]',
      'x = np.arange(6 * 5 * 5, dtype=np.float32).reshape(6, 5, 5) / 7',
      'y = np.array([3, 1, 3, 2, 1, 2])',
      'xt = x[:2] * 2; yt = np.array([2, 3])',
      "for n, a in dict(x_train=x, y_train=y, x_test=xt, y_test=yt).items(): np.save(f'{d}/{n}.npy', a)",
      "np.savez_compressed(f'{d}/all.npz', x_train=x, y_train=y, x_test=xt, y_test=yt)",
    ].join('\n');
    const run = spawnSync('python3', ['-c', script, out], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const files = await loadNpyDataset({ path: out });
    const zipped = await loadNpyDataset({ path: join(out, 'all.npz') });
    expect(files.inputShape).toEqual([5, 5, 1]);
    expect(files.classNames).toEqual(['1', '2', '3']);
    expect(Array.from(files.train.y)).toEqual([2, 0, 2, 1, 0, 1]);
    expect(files.train.x[8]).toBe(Math.fround(8 / 7));
    expect(zipped.train.x).toEqual(files.train.x);
    expect(zipped.test.y).toEqual(files.test.y);
    expect(zipped.sha256).toBe(files.sha256);
  });
});

describe('loadNpyDataset refuses bad input, naming the file and the entry', () => {
  it('an unsupported dtype', async () => {
    const path = dataset('half', { x_train: npy('<f2', [4, 3], range(24)) });
    const e = await failure(loadNpyDataset({ path }));
    expect(e.code).toBe('unsupported');
    expect(e.message).toBe(
      `${join(path, 'x_train.npy')}: dtype '<f2' is not supported: features float32, float64 or uint8, labels integers (little-endian)`,
    );
    const big = dataset('big-endian', { x_train: npy('>f4', [4, 3], range(12)) });
    expect((await failure(loadNpyDataset({ path: big }))).message).toMatch(/x_train\.npy: dtype '>f4' is not supported/);
    const floatLabels = dataset('float-labels', { y_train: npy('<f4', [4], [0, 1, 0, 1]) });
    expect((await failure(loadNpyDataset({ path: floatLabels }))).message).toBe(
      `${join(floatLabels, 'y_train.npy')}: labels of dtype f4 are not supported: integers`,
    );
  });

  it('labels that do not match the samples', async () => {
    const path = dataset('mismatch', { y_train: npy('<i8', [3], [0, 1, 0]) });
    expect((await failure(loadNpyDataset({ path }))).message).toBe(
      `${join(path, 'y_train.npy')}: 3 labels, but x_train.npy has 4 samples`,
    );
    const shape = dataset('test-shape', { x_test: npy('<f4', [2, 4], range(8)) });
    expect((await failure(loadNpyDataset({ path: shape }))).message).toBe(
      `${join(shape, 'x_test.npy')}: samples of shape (4), but ${join(shape, 'x_train.npy')} has (3)`,
    );
  });

  it('a truncated file', async () => {
    const whole = npy('<f4', [4, 3], range(12));
    const path = dataset('truncated', { x_train: whole.subarray(0, whole.length - 8) });
    expect((await failure(loadNpyDataset({ path }))).message).toBe(
      `${join(path, 'x_train.npy')}: truncated: shape (4, 3) of '<f4' needs 48 data bytes, the file has 40`,
    );
  });

  it('a test label the training labels lack, a NaN feature, a missing file', async () => {
    const unseen = dataset('unseen', { y_test: npy('<i8', [2], [5, 9]) });
    expect((await failure(loadNpyDataset({ path: unseen }))).message).toBe(
      `${join(unseen, 'y_test.npy')}: entry 1 is label 9, which does not occur in the training labels`,
    );
    const nan = dataset('nan', { x_train: npy('<f4', [4, 3], range(12, (i) => (i === 7 ? NaN : i))) });
    expect((await failure(loadNpyDataset({ path: nan }))).message).toBe(`${join(nan, 'x_train.npy')}: entry [2, 1] is NaN`);
    const none = join(dir, 'nothing-here');
    mkdirSync(none);
    const e = await failure(loadNpyDataset({ path: none }));
    expect(e.code).toBe('missing');
    expect(e.message).toBe(`${join(none, 'x_train.npy')}: file not found`);
  });

  it('an .npz without one of the arrays', async () => {
    const path = join(dir, 'partial.npz');
    writeFileSync(path, zipSync({ 'x_train.npy': npy('<f4', [2, 1], [1, 3]) }));
    expect((await failure(loadNpyDataset({ path }))).message).toBe(
      `${path}: the archive has no y_train array (needs x_train, y_train, x_test, y_test)`,
    );
  });
});
