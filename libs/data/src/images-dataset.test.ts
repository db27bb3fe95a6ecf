import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeDatasetBundle, encodeDatasetBundle } from './bundle';
import { DatasetError } from './errors';
import { loadDataset } from './registry';
import { tempDir, writeImage } from './test-helpers';
import type { LoadProgress } from './types';

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir('chorus-images-')));
afterEach(() => cleanup());

const gray = (h: number, w: number) => ({ height: h, width: w, channels: 1 as const });

/** class folder → n images of value v (a flat grey), `size` each. */
async function writeClasses(
  root: string,
  classes: Record<string, number[]>,
  size = gray(4, 3),
): Promise<void> {
  for (const [name, values] of Object.entries(classes)) {
    for (const [i, v] of values.entries()) await writeImage(join(root, name, `img${i}.png`), size, () => v);
  }
}

async function refusal(work: Promise<unknown>): Promise<DatasetError> {
  const e = await work.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(DatasetError);
  return e as DatasetError;
}

describe('loadDataset images', () => {
  it('reads DIR/<class>/ with a seeded test split, classes the sorted folder names, pixels / 255', async () => {
    // 10 images: "b" 6 of 51 (0.2 after /255), "a" 4 of 255 (1.0).
    await writeClasses(dir, { b: [51, 51, 51, 51, 51, 51], a: [255, 255, 255, 255] });
    const progress: LoadProgress[] = [];
    const ds = await loadDataset('images', { path: dir, seed: 3, onProgress: (p) => progress.push(p) });
    expect(ds.name).toBe('images');
    expect(ds.classNames).toEqual(['a', 'b']);
    expect(ds.inputShape).toEqual([4, 3, 1]); // all grayscale: 1 channel, the common size
    expect(ds.train.count + ds.test.count).toBe(10);
    expect(ds.test.count).toBe(2); // round(10 × 0.2)
    for (const split of [ds.train, ds.test]) {
      for (let i = 0; i < split.count; i++) {
        const want = split.y[i] === 0 ? 1 : 51 / 255;
        expect(split.x[i * 12]).toBeCloseTo(want, 6);
        expect(split.x[i * 12 + 11]).toBeCloseTo(want, 6);
      }
    }
    expect(progress.at(-1)).toMatchObject({
      path: dir,
      rows: 10,
      bytesRead: 10,
      totalBytes: 10,
      unit: 'images',
    });
    expect(ds.preprocess).toEqual({
      normalize: 'none',
      scale: 255,
      image: { height: 4, width: 3, channels: 1, fit: 'fill', alpha: 'flatten-black' },
    });
    expect(ds.source).toContain('1 channel (all grayscale)');

    // Same seed, same split and hash; another seed, another split.
    const again = await loadDataset('images', { path: dir, seed: 3 });
    expect(again.sha256).toBe(ds.sha256);
    expect(Array.from(again.test.y)).toEqual(Array.from(ds.test.y));
    const other = await loadDataset('images', { path: dir, seed: 4 });
    expect(other.sha256).not.toBe(ds.sha256);

    // The bundle keeps one byte per value and decodes to the same floats and preprocess.
    const bundle = encodeDatasetBundle(ds);
    const headerLength = new DataView(bundle.buffer, bundle.byteOffset).getUint32(12, true);
    expect(bundle.length - 16 - headerLength).toBe(10 * 12 + 10); // u8 pixels and u8 labels
    const back = decodeDatasetBundle(bundle);
    expect(Array.from(back.train.x)).toEqual(Array.from(ds.train.x));
    expect(back.preprocess).toEqual(ds.preprocess);
  });

  it('reads train/ and test/, resizes to imageSize and makes 3 channels from colour sources', async () => {
    const rgb = { height: 6, width: 6, channels: 3 as const };
    // Class "red": pure red; class "blue": pure blue; one test image each, jpg for one.
    for (let i = 0; i < 3; i++) {
      await writeImage(join(dir, 'train', 'red', `${i}.png`), rgb, (_r, _c, k) => (k === 0 ? 255 : 0));
      await writeImage(join(dir, 'train', 'blue', `${i}.png`), rgb, (_r, _c, k) => (k === 2 ? 255 : 0));
    }
    await writeImage(join(dir, 'test', 'red', 'x.jpg'), rgb, (_r, _c, k) => (k === 0 ? 255 : 0));
    await writeImage(join(dir, 'test', 'blue', 'y.png'), { height: 8, width: 2, channels: 3 }, (_r, _c, k) =>
      k === 2 ? 255 : 0,
    );
    await writeFile(join(dir, 'train', 'red', 'notes.txt'), 'not an image: skipped');

    const ds = await loadDataset('images', { path: dir, imageSize: [2, 2] });
    expect(ds.classNames).toEqual(['blue', 'red']);
    expect(ds.inputShape).toEqual([2, 2, 3]);
    expect([ds.train.count, ds.test.count]).toEqual([6, 2]);
    expect(Array.from(ds.test.y)).toEqual([0, 1]); // blue's y.png, then red's x.jpg
    // test[0] is blue: (0, 0, 1) at every pixel.
    expect(Array.from(ds.test.x.subarray(0, 3))).toEqual([0, 0, 1]);
    // test[1] is a red jpg: R near 1, G and B near 0 (lossy).
    expect(ds.test.x[12]).toBeGreaterThan(0.9);
    expect(ds.test.x[13]).toBeLessThan(0.1);
    expect(ds.source).toContain('3 channels (colour sources)');

    const grey = await loadDataset('images', { path: dir, imageSize: [2, 2], channels: 1 });
    expect(grey.inputShape).toEqual([2, 2, 1]);
  });

  it('refuses an image that does not decode, naming it', async () => {
    await writeClasses(dir, { a: [1, 2], b: [3, 4] });
    const bad = join(dir, 'b', 'broken.png');
    await writeFile(bad, 'this is no png');
    const e = await refusal(loadDataset('images', { path: dir }));
    expect(e.message).toContain(bad);
    expect(e.message).toContain('not a decodable image');
    // Also when no header pass runs (size and channels given).
    const e2 = await refusal(loadDataset('images', { path: dir, imageSize: [4, 3], channels: 1 }));
    expect(e2.message).toContain(bad);
  });

  it('refuses mixed sizes without imageSize, naming the odd file and the flag', async () => {
    await writeClasses(dir, { a: [1, 2], b: [3] });
    const odd = join(dir, 'b', 'big.png');
    await writeImage(odd, gray(5, 3), () => 9);
    const e = await refusal(loadDataset('images', { path: dir }));
    expect(e.message).toContain(odd);
    expect(e.message).toContain('--image-size');
    const ok = await loadDataset('images', { path: dir, imageSize: [5, 3] });
    expect(ok.inputShape).toEqual([5, 3, 1]);
  });

  it('refuses an empty class folder, one class, and no images at all', async () => {
    await writeClasses(dir, { a: [1, 2] });
    await mkdir(join(dir, 'b'));
    const empty = await refusal(loadDataset('images', { path: dir }));
    expect(empty.message).toContain(`${join(dir, 'b')}: empty class folder`);

    const { dir: one, cleanup: c1 } = tempDir('chorus-images-');
    const { dir: none, cleanup: c2 } = tempDir('chorus-images-');
    try {
      await writeClasses(one, { only: [1, 2, 3] });
      const single = await refusal(loadDataset('images', { path: one }));
      expect(single.message).toContain('only one class ("only")');
      expect(single.message).toContain(one);

      const nothing = await refusal(loadDataset('images', { path: none }));
      expect(nothing.message).toContain(`${none}: no class folders`);
      await writeImage(join(none, 'loose.png'), gray(2, 2), () => 0);
      const loose = await refusal(loadDataset('images', { path: none }));
      expect(loose.message).toContain('1 images lie directly in it');
      const missing = await refusal(loadDataset('images', { path: join(none, 'nope') }));
      expect(missing.code).toBe('missing');
    } finally {
      c1();
      c2();
    }
  });

  it('refuses a test class that train never saw, and a test fraction with train/ and test/', async () => {
    await writeClasses(join(dir, 'train'), { cat: [1, 2], dog: [3, 4] });
    await writeClasses(join(dir, 'test'), { cat: [1], emu: [5] });
    const e = await refusal(loadDataset('images', { path: dir }));
    expect(e.message).toContain(
      `${join(dir, 'test', 'emu')}: class "emu" has no folder in ${join(dir, 'train')}`,
    );

    const { dir: d2, cleanup: c } = tempDir('chorus-images-');
    try {
      await writeClasses(join(d2, 'train'), { cat: [1], dog: [3] });
      await writeClasses(join(d2, 'test'), { cat: [1] });
      const f = await refusal(loadDataset('images', { path: d2, testFraction: 0.3 }));
      expect(f.message).toContain('a test fraction does not apply');
      const ok = await loadDataset('images', { path: d2 });
      expect([ok.train.count, ok.test.count]).toEqual([2, 1]);
    } finally {
      c();
    }
  });

  it('with read limits, refuses an image linked from outside the roots before sharp reads it', async () => {
    const { dir: outside, cleanup: c } = tempDir('chorus-images-out-');
    try {
      await writeClasses(dir, { a: [1, 2], b: [3] });
      await writeImage(join(outside, 'secret.png'), gray(4, 3), () => 7);
      await symlink(join(outside, 'secret.png'), join(dir, 'b', 'link.png'));
      const limits = { roots: [dir], maxBytes: 1 << 20 };
      const e = await refusal(loadDataset('images', { path: dir, limits }));
      expect(e.message).toBe(
        `${join(dir, 'b', 'link.png')}: outside the dataset roots this process reads from (--dataset-root / CHORUS_DATASET_ROOTS)`,
      );
      const e2 = await refusal(loadDataset('images', { path: dir, limits, imageSize: [4, 3], channels: 1 }));
      expect(e2.message).toContain('outside the dataset roots');
    } finally {
      c();
    }
  });
});
