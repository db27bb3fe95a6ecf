import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { DatasetError } from './errors';
import { parseIdx, readIdx } from './idx';
import { makeIdx, tempDir } from './test-helpers';

const { dir, cleanup } = tempDir();
afterAll(cleanup);

const images = makeIdx([3, 2, 2], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255]);

function errorOf(f: () => unknown): DatasetError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DatasetError);
    return e as DatasetError;
  }
  throw new Error('expected a DatasetError');
}

describe('parseIdx', () => {
  it('reads dims and data of a valid ubyte file', () => {
    const { dims, data } = parseIdx(images, 'x.idx');
    expect(dims).toEqual([3, 2, 2]);
    expect(Array.from(data)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255]);
  });

  it('reads a 1-d label file', () => {
    expect(parseIdx(makeIdx([4], [1, 2, 3, 4]), 'l.idx').dims).toEqual([4]);
  });

  it('rejects a wrong magic, naming the file', () => {
    const bad = images.slice();
    bad[0] = 0x1f;
    const e = errorOf(() => parseIdx(bad, 'bad.idx'));
    expect(e.code).toBe('corrupt');
    expect(e.message).toMatch(/^bad\.idx: not an IDX file/);
  });

  it('rejects data types other than unsigned byte', () => {
    const e = errorOf(() => parseIdx(makeIdx([1], [0, 0, 0, 0], 0x0d), 'f.idx'));
    expect(e.code).toBe('unsupported');
    expect(e.message).toContain('0x0d (float32)');
    expect(errorOf(() => parseIdx(makeIdx([1], [0], 0x42), 'u.idx')).message).toContain(
      'unknown IDX data type 0x42',
    );
  });

  it('says expected and actual size of a truncated file', () => {
    const e = errorOf(() => parseIdx(images.subarray(0, images.length - 5), 'short.idx'));
    expect(e.code).toBe('corrupt');
    expect(e.message).toBe(
      'short.idx: truncated: dims 3×2×2 need 28 bytes (header 16 + data 12), file has 23',
    );
  });

  it('rejects trailing bytes and dims that do not match the data', () => {
    const long = new Uint8Array(images.length + 1);
    long.set(images);
    expect(errorOf(() => parseIdx(long, 'long.idx')).message).toContain('has trailing bytes');
    // header says 3×2×3 but only 12 data bytes follow
    const wrongDims = makeIdx(
      [3, 2, 3],
      Array.from({ length: 12 }, () => 0),
    );
    expect(errorOf(() => parseIdx(wrongDims, 'dims.idx')).message).toContain('need 34 bytes');
  });

  it('rejects a header cut inside its dimension sizes, and empty files', () => {
    expect(errorOf(() => parseIdx(images.subarray(0, 9), 'h.idx')).message).toContain('truncated header');
    expect(errorOf(() => parseIdx(new Uint8Array(0), 'e.idx')).message).toContain('too short');
    expect(errorOf(() => parseIdx(Uint8Array.from([0, 0, 8, 0]), 'z.idx')).message).toContain('0 dimensions');
  });
});

describe('readIdx', () => {
  it('reads raw and gzipped files alike, detecting gzip by content not name', async () => {
    writeFileSync(join(dir, 'raw-idx3-ubyte'), images);
    writeFileSync(join(dir, 'gzipped-but-no-suffix'), gzipSync(images));
    writeFileSync(join(dir, 'raw.gz'), images);
    const raw = await readIdx(join(dir, 'raw-idx3-ubyte'));
    expect(await readIdx(join(dir, 'gzipped-but-no-suffix'))).toEqual(raw);
    expect(await readIdx(join(dir, 'raw.gz'))).toEqual(raw);
    expect(raw.dims).toEqual([3, 2, 2]);
  });

  it('reports a truncated gzip stream and a truncated payload with the path', async () => {
    const gz = gzipSync(images);
    writeFileSync(join(dir, 'cut.gz'), gz.subarray(0, gz.length - 10));
    await expect(readIdx(join(dir, 'cut.gz'))).rejects.toMatchObject({
      code: 'corrupt',
      path: join(dir, 'cut.gz'),
    });
    writeFileSync(join(dir, 'short.gz'), gzipSync(images.subarray(0, 20)));
    await expect(readIdx(join(dir, 'short.gz'))).rejects.toThrow(`${join(dir, 'short.gz')}: truncated`);
  });

  it('says which file is missing', async () => {
    const p = join(dir, 'nope');
    await expect(readIdx(p)).rejects.toMatchObject({ code: 'missing', message: `${p}: file not found` });
  });
});
