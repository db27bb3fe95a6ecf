import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { readDigitsCsv, readSignMnistCsv, SIGN_MNIST_CLASS_NAMES } from './csv';
import { DIGITS_CSV } from './registry';
import { signCsv, signRow, tempDir } from './test-helpers';

const { dir, cleanup } = tempDir();
afterAll(cleanup);

function file(name: string, content: string | Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

describe('readSignMnistCsv', () => {
  it('maps labels 0–24 without 9 onto 24 contiguous classes and scales pixels', async () => {
    const p = file('sign.csv', signCsv([signRow(0, 0), signRow(8, 1), signRow(10, 2), signRow(24, 3)]));
    const s = await readSignMnistCsv(p);
    expect(s.count).toBe(4);
    expect(Array.from(s.y)).toEqual([0, 8, 9, 23]);
    expect(s.x.length).toBe(4 * 784);
    expect(s.x[784 + 0]).toBeCloseTo(1 / 255, 7);
    expect(s.x[255]).toBeCloseTo(1, 7);
    expect(SIGN_MNIST_CLASS_NAMES).toHaveLength(24);
    // Kaggle label 10 is K, label 24 is Y
    expect(SIGN_MNIST_CLASS_NAMES[9]).toBe('K');
    expect(SIGN_MNIST_CLASS_NAMES[23]).toBe('Y');
    expect(SIGN_MNIST_CLASS_NAMES).not.toContain('J');
  });

  it('accepts CRLF line ends, a trailing blank line and gzip', async () => {
    const text = signCsv([signRow(3, 5), signRow(4, 6)]).replace(/\n/g, '\r\n') + '\r\n';
    const a = await readSignMnistCsv(file('crlf.csv', text));
    const b = await readSignMnistCsv(file('gz.csv.gz', gzipSync(text)));
    expect(a).toEqual(b);
    expect(Array.from(a.y)).toEqual([3, 4]);
  });

  it('requires the Kaggle header', async () => {
    const p = file('nohead.csv', [signRow(1, 1)].map((r) => r.join(',')).join('\n'));
    await expect(readSignMnistCsv(p)).rejects.toThrow(
      `${p}:1: expected the header "label,pixel1,…,pixel784"`,
    );
  });

  it('names the file and line of a row with the wrong column count', async () => {
    const rows = [signRow(1, 1), signRow(2, 2).slice(0, 700), signRow(3, 3)];
    const p = file('cols.csv', signCsv(rows));
    await expect(readSignMnistCsv(p)).rejects.toMatchObject({
      code: 'corrupt',
      line: 3,
      message: `${p}:3: expected 785 columns, found 700`,
    });
    const p2 = file('cols2.csv', signCsv([[...signRow(1, 1), 0]]));
    await expect(readSignMnistCsv(p2)).rejects.toThrow(`${p2}:2: expected 785 columns, found more (786)`);
  });

  it('rejects out-of-range pixels, non-numbers and impossible labels', async () => {
    const bright = signRow(1, 1);
    bright[5] = 256;
    const p = file('bright.csv', signCsv([signRow(1, 0), bright]));
    await expect(readSignMnistCsv(p)).rejects.toThrow(`${p}:3: pixel5 = 256 is outside 0–255`);
    const j = file('j.csv', signCsv([signRow(9, 0)]));
    await expect(readSignMnistCsv(j)).rejects.toThrow(`${j}:2: label 9 is not a Sign-Language-MNIST class`);
    const z = file('z.csv', signCsv([signRow(25, 0)]));
    await expect(readSignMnistCsv(z)).rejects.toThrow('label 25');
    const text = signCsv([signRow(1, 0)]).replace('\n1,0,', '\n1,abc,');
    const nan = file('nan.csv', text);
    await expect(readSignMnistCsv(nan)).rejects.toThrow(`${nan}:2: column 2 is not a number: "abc"`);
  });

  it('rejects a header-only file', async () => {
    const p = file('empty.csv', signCsv([]));
    await expect(readSignMnistCsv(p)).rejects.toThrow('no data rows');
  });
});

describe('readDigitsCsv', () => {
  const row = (label: number, v = 16): number[] => [
    ...Array.from({ length: 64 }, (_, i) => (i * v) % 17),
    label,
  ];

  it('reads 64 values 0–16 and a label, scaled by 1/16', async () => {
    const p = file('digits.csv', [row(3), row(9, 5)].map((r) => r.join(',')).join('\n'));
    const s = await readDigitsCsv(p);
    expect(s.count).toBe(2);
    expect(Array.from(s.y)).toEqual([3, 9]);
    expect(s.x[1]).toBeCloseTo(1, 7); // 16/16
    expect(s.x[64 + 1]).toBeCloseTo(5 / 16, 7);
    expect(Math.max(...s.x)).toBeLessThanOrEqual(1);
  });

  it('accepts decimal notation ("5.0") and gzip', async () => {
    const text = [row(1), row(2)].map((r) => r.map((v) => v.toFixed(1)).join(',')).join('\n');
    const a = await readDigitsCsv(file('dec.csv.gz', gzipSync(text)));
    expect(Array.from(a.y)).toEqual([1, 2]);
  });

  it('names file and line of bad rows', async () => {
    const hot = row(1);
    hot[10] = 17;
    const p = file('hot.csv', [row(0), hot].map((r) => r.join(',')).join('\n'));
    await expect(readDigitsCsv(p)).rejects.toThrow(`${p}:2: column 11 = 17 is outside 0–16`);
    const short = file('short.csv', [row(0).slice(1)].map((r) => r.join(',')).join('\n'));
    await expect(readDigitsCsv(short)).rejects.toThrow(`${short}:1: expected 65 columns, found 64`);
    const lab = file('lab.csv', [row(10)].map((r) => r.join(',')).join('\n'));
    await expect(readDigitsCsv(lab)).rejects.toThrow(`${lab}:1: label 10 is not a digit 0–9`);
    const frac = file('frac.csv', [row(1.5)].map((r) => r.join(',')).join('\n'));
    await expect(readDigitsCsv(frac)).rejects.toThrow('label 1.5');
  });

  it('reads scikit-learn’s digits.csv.gz (1,797 rows)', async () => {
    expect(existsSync(DIGITS_CSV), `${DIGITS_CSV} (apt-get install python3-sklearn)`).toBe(true);
    const s = await readDigitsCsv(DIGITS_CSV);
    expect(s.count).toBe(1797);
    expect(s.x.length).toBe(1797 * 64);
    const perClass = new Array<number>(10).fill(0);
    for (const c of s.y) perClass[c] = (perClass[c] ?? 0) + 1;
    expect(perClass.every((n) => n >= 170 && n <= 190)).toBe(true);
  });
});
