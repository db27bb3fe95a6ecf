import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeDatasetBundle, encodeDatasetBundle } from './bundle';
import { loadCsvDataset } from './csv-dataset';
import { DatasetError } from './errors';
import { loadDataset } from './registry';
import { tempDir } from './test-helpers';

const { dir, cleanup } = tempDir('chorus-csv-');
afterAll(cleanup);

function file(name: string, content: string | Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

/** Rows `f1,f2,label`: feature values i and 10·i, labels cycling through `labels`. */
function table(n: number, labels: string[], header = 'f1,f2,label'): string {
  const rows = Array.from({ length: n }, (_, i) => `${i},${10 * i},${labels[i % labels.length]}`);
  return `${header ? `${header}\n` : ''}${rows.join('\n')}\n`;
}

describe('loadCsvDataset', () => {
  it('reads a header, string labels as sorted classes, a test file, no normalisation', async () => {
    const train = file('train.csv', table(6, ['owl', 'cat', 'dog']));
    const test = file('test.csv', 'f1,f2,label\n1,2,dog\n3,4,cat\n');
    const d = await loadCsvDataset({ path: train, testPath: test, normalize: 'none' });
    expect(d.name).toBe('csv');
    expect(d.inputShape).toEqual([2]);
    // Sorted, not first-appearance: cat 0, dog 1, owl 2.
    expect(d.classNames).toEqual(['cat', 'dog', 'owl']);
    expect(Array.from(d.train.y)).toEqual([2, 0, 1, 2, 0, 1]);
    expect(Array.from(d.train.x)).toEqual([0, 0, 1, 10, 2, 20, 3, 30, 4, 40, 5, 50]);
    expect(Array.from(d.test.y)).toEqual([1, 0]);
    expect(d.preprocess).toEqual({ normalize: 'none' });
  });

  it('takes integer labels in numeric order, a label column by index, no header, gzip', async () => {
    // label first: 10, 9, 2 → classes 2 (10), 1 (9), 0 (2): numeric, not string, order.
    const text = Array.from({ length: 9 }, (_, i) => `${[10, 9, 2][i % 3]},${i},${i * i}`).join('\n');
    const p = file('nohead.csv.gz', gzipSync(text));
    const d = await loadCsvDataset({ path: p, labelColumn: 0, testFraction: 1 / 3, normalize: 'none', seed: 3 });
    expect(d.classNames).toEqual(['2', '9', '10']);
    expect(d.train.count + d.test.count).toBe(9);
    expect(d.test.count).toBe(3);
    // Every row keeps its features with its label: feature 1 is i, label index follows i mod 3.
    for (const split of [d.train, d.test]) {
      for (let r = 0; r < split.count; r++) {
        const i = split.x[r * 2] as number;
        expect(split.x[r * 2 + 1]).toBe(i * i);
        expect(split.y[r]).toBe([2, 1, 0][i % 3]);
      }
    }
  });

  it('holds out the same test rows for the same seed and others for another seed', async () => {
    const p = file('seeded.csv', table(50, ['a', 'b']));
    const a = await loadCsvDataset({ path: p, seed: 1 });
    const b = await loadCsvDataset({ path: p, seed: 1 });
    const c = await loadCsvDataset({ path: p, seed: 2 });
    expect(a.test.count).toBe(10); // default fraction 0.2
    expect(b.test.x).toEqual(a.test.x);
    expect(b.sha256).toBe(a.sha256);
    expect(c.test.x).not.toEqual(a.test.x);
    expect(c.sha256).not.toBe(a.sha256);
  });

  it('standardises and min-max scales with statistics of the training split only', async () => {
    const train = file('norm-train.csv', 'x,y,label\n1,5,a\n3,5,b\n');
    const test = file('norm-test.csv', 'x,y,label\n5,7,a\n');
    // x: mean 2, std 1 (population) → train -1, 1; test (5-2)/1 = 3. y is constant: std 1 → 0; test 7-5 = 2.
    const s = await loadCsvDataset({ path: train, testPath: test, normalize: 'standard' });
    expect(Array.from(s.train.x)).toEqual([-1, 0, 1, 0]);
    expect(Array.from(s.test.x)).toEqual([3, 2]);
    expect(s.preprocess).toEqual({ normalize: 'standard', mean: [2, 5], std: [1, 1] });
    // minmax: x in [1, 3] → 0, 1, test (5-1)/2 = 2; y range 0 → 1 → 0, 0, test 2.
    const m = await loadCsvDataset({ path: train, testPath: test, normalize: 'minmax' });
    expect(Array.from(m.train.x)).toEqual([0, 0, 1, 0]);
    expect(Array.from(m.test.x)).toEqual([2, 2]);
    expect(m.preprocess).toEqual({ normalize: 'minmax', min: [1, 5], max: [3, 5] });
  });

  it('travels in a bundle with its class names and preprocess', async () => {
    const d = await loadDataset('csv', { path: file('bundle.csv', table(10, ['x', 'y'])) });
    const back = decodeDatasetBundle(encodeDatasetBundle(d));
    expect(back.name).toBe('csv');
    expect(back.classNames).toEqual(['x', 'y']);
    expect(back.preprocess).toEqual(d.preprocess);
    expect(back.train.x).toEqual(d.train.x);
  });

  it('calls onProgress with the rows read', async () => {
    const seen: number[] = [];
    await loadCsvDataset({ path: file('progress.csv', table(20, ['a', 'b'])), onProgress: (p) => seen.push(p.rows) });
    expect(seen.at(-1)).toBe(20);
  });
});

/** The DatasetError a load fails with. */
async function failure(work: Promise<unknown>): Promise<DatasetError> {
  try {
    await work;
  } catch (e) {
    if (e instanceof DatasetError) return e;
    throw e;
  }
  throw new Error('expected a DatasetError');
}

describe('loadCsvDataset refuses bad input, naming the file, line and column', () => {
  it('a ragged row', async () => {
    const p = file('ragged.csv', 'a,b,label\n1,2,x\n3,y\n');
    const e = await failure(loadCsvDataset({ path: p }));
    expect(e.message).toBe(`${p}:3: expected 3 columns (as on the first line), found 2`);
    expect(e.line).toBe(3);
  });

  it('a non-numeric feature', async () => {
    const p = file('text.csv', 'a,b,label\n1,2,x\n3,four,y\n');
    expect((await failure(loadCsvDataset({ path: p }))).message).toBe(
      `${p}:3: column 1 ("b") is not a number: "four"`,
    );
  });

  it('NaN and empty cells', async () => {
    const nan = file('nan.csv', 'a,b,label\n1,NaN,x\n');
    expect((await failure(loadCsvDataset({ path: nan }))).message).toBe(`${nan}:2: column 1 ("b") is not a number: "NaN"`);
    const empty = file('empty.csv', 'a,b,label\n1,2,x\n,3,y\n');
    expect((await failure(loadCsvDataset({ path: empty }))).message).toBe(`${empty}:3: column 0 ("a") is empty`);
    const noLabel = file('nolabel.csv', 'a,b,label\n1,2,\n');
    expect((await failure(loadCsvDataset({ path: noLabel }))).message).toBe(
      `${noLabel}:2: column 2 ("label") (the label) is empty`,
    );
  });

  it('a label column that does not exist, by name or by index', async () => {
    const p = file('cols.csv', table(4, ['a', 'b']));
    expect((await failure(loadCsvDataset({ path: p, labelColumn: 'species' }))).message).toBe(
      `${p}:1: the label column "species" does not exist: the header is "f1", "f2", "label"`,
    );
    expect((await failure(loadCsvDataset({ path: p, labelColumn: 3 }))).message).toBe(
      `${p}:1: the label column 3 does not exist: the file has 3 columns (0–2)`,
    );
  });

  it('one class only', async () => {
    const p = file('one.csv', table(5, ['same']));
    const e = await failure(loadCsvDataset({ path: p }));
    expect(e.message).toBe(`${p}: label column "label": only one class ("same"): a classifier needs at least 2`);
  });

  it('more than 10,000 classes', async () => {
    const rows = Array.from({ length: 10_001 }, (_, i) => `${i},id${i}`).join('\n');
    const p = file('ids.csv', `x,id\n${rows}\n`);
    const e = await failure(loadCsvDataset({ path: p }));
    // Line 10,002: the header is line 1, the 10,001st distinct label is on line 10,002.
    expect(e.message).toBe(
      `${p}:10002: more than 10000 distinct labels in column 1 ("id"): is it the label column (--label-column)?`,
    );
  });

  it('test labels the training file never had', async () => {
    const train = file('seen.csv', table(4, ['a', 'b']));
    const test = file('unseen.csv', 'f1,f2,label\n1,2,a\n3,4,zebra\n');
    expect((await failure(loadCsvDataset({ path: train, testPath: test }))).message).toBe(
      `${test}:3: label "zebra" does not occur in the training file: the model cannot learn it`,
    );
  });

  it('a test file with other columns, a file that is not there, a file without rows', async () => {
    const train = file('three.csv', table(4, ['a', 'b']));
    const test = file('two.csv', 'f1,label\n1,a\n');
    expect((await failure(loadCsvDataset({ path: train, testPath: test }))).message).toBe(
      `${test}:1: has 2 columns, the training file 3`,
    );
    const missing = join(dir, 'nope.csv');
    const e = await failure(loadCsvDataset({ path: missing }));
    expect(e.code).toBe('missing');
    expect(e.message).toBe(`${missing}: file not found`);
    const header = file('header-only.csv', 'a,b,label\n');
    expect((await failure(loadCsvDataset({ path: header }))).message).toBe(`${header}: no data rows`);
  });

  it('a truncated gzip file', async () => {
    const gz = gzipSync(table(200, ['a', 'b']));
    const p = file('cut.csv.gz', gz.subarray(0, gz.length - 40));
    const e = await failure(loadCsvDataset({ path: p }));
    expect(e.code).toBe('corrupt');
    expect(e.message).toMatch(new RegExp(`^${p.replace(/[.]/g, '\\.')}: gzip data is damaged or truncated`));
  });
});
