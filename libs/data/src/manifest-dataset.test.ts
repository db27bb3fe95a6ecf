import { describe, expect, it } from 'vitest';
import { manifestDatasetFor } from './preprocess';

/** What an export does to one raw value of feature i (libs/models applyPreprocess, written out). */
function applied(m: ReturnType<typeof manifestDatasetFor>, raw: number, i: number): number {
  const { divisor, normalize } = m.preprocess;
  const x = raw / divisor;
  return normalize === null ? x : (x - (normalize.mean[i] as number)) / (normalize.std[i] as number);
}

describe('manifestDatasetFor', () => {
  it('turns a csv minmax normalization into per-feature mean/std: min → 0, max → 1, constant → 0', () => {
    const m = manifestDatasetFor({
      name: 'csv',
      inputShape: [3],
      numClasses: 2,
      classNames: ['no', 'yes'],
      preprocess: { normalize: 'minmax', min: [0, -2, 5], max: [10, 2, 5] },
    });
    expect([
      applied(m, 0, 0),
      applied(m, 10, 0),
      applied(m, -2, 1),
      applied(m, 2, 1),
      applied(m, 5, 2),
    ]).toEqual([0, 1, 0, 1, 0]);
    expect(m.preprocess.image).toBeNull();
    expect(m.classNames).toEqual(['no', 'yes']);
  });

  it('keeps a standard normalization and an image folder’s size, channels and 0–255 range', () => {
    const csv = manifestDatasetFor({
      name: 'csv',
      inputShape: [2],
      numClasses: 3,
      preprocess: { normalize: 'standard', mean: [1, 2], std: [2, 4] },
    });
    expect(applied(csv, 5, 0)).toBe(2);
    expect(applied(csv, -2, 1)).toBe(-1);
    expect(csv.classNames).toEqual(['0', '1', '2']);
    const images = manifestDatasetFor({
      name: 'images',
      inputShape: [8, 6, 3],
      numClasses: 2,
      preprocess: {
        normalize: 'none',
        scale: 255,
        image: { height: 8, width: 6, channels: 3, fit: 'fill', alpha: 'flatten-black' },
      },
    });
    expect(images.preprocess).toEqual({
      rawRange: [0, 255],
      divisor: 255,
      normalize: null,
      image: { height: 8, width: 6, channels: 3 },
    });
  });

  it('describes a built-in dataset as before', () => {
    expect(
      manifestDatasetFor({ name: 'digits', inputShape: [8, 8, 1], numClasses: 10 }).preprocess.divisor,
    ).toBe(16);
  });
});
