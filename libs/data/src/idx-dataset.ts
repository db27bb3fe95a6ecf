import { createHash } from 'node:crypto';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { DatasetError } from './errors';
import { parseIdx, type IdxArray } from './idx';
import { readMaybeGzip, type ReadLimits } from './io';
import type { Split } from './types';

/** The four files of an MNIST-like dataset, in the order they are hashed. */
export const IDX_FILES = [
  'train-images-idx3-ubyte',
  'train-labels-idx1-ubyte',
  't10k-images-idx3-ubyte',
  't10k-labels-idx1-ubyte',
] as const;
type IdxFile = (typeof IDX_FILES)[number];

/** Names a file may have on disk: LeCun's, the dotted variant some mirrors use, each raw or gzipped. */
function candidates(file: IdxFile): string[] {
  const dotted = file.replace(/-(idx\d)-/, '.$1-');
  return [file, `${file}.gz`, dotted, `${dotted}.gz`];
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Finds each of the four files in `dir`; lists the ones it cannot find. */
export async function locateIdxFiles(
  dir: string,
): Promise<{ found: Map<IdxFile, string>; missing: IdxFile[] }> {
  const found = new Map<IdxFile, string>();
  const missing: IdxFile[] = [];
  for (const file of IDX_FILES) {
    let hit: string | undefined;
    for (const name of candidates(file)) {
      if (await exists(join(dir, name))) {
        hit = join(dir, name);
        break;
      }
    }
    if (hit === undefined) missing.push(file);
    else found.set(file, hit);
  }
  return { found, missing };
}

export interface IdxDatasetFiles {
  train: Split;
  test: Split;
  sha256: string;
  paths: string[];
}

/**
 * Loads an MNIST-like directory: 28×28 ubyte images and ubyte labels < numClasses for train and
 * t10k. The hash covers the decoded (gunzipped) file bytes in IDX_FILES order, so it equals
 * `cat <raw files> | sha256sum` and does not depend on compression. Throws `missing` (with
 * `howToGet`) if any file is absent.
 */
export async function loadIdxDirectory(
  dir: string,
  numClasses: number,
  howToGet: string,
  limits?: ReadLimits,
): Promise<IdxDatasetFiles> {
  const { found, missing } = await locateIdxFiles(dir);
  if (missing.length > 0) {
    throw new DatasetError('missing', `${dir}: missing ${missing.join(', ')} (raw or .gz). ${howToGet}`, {
      path: dir,
    });
  }
  const paths = IDX_FILES.map((f) => found.get(f) ?? '');
  const bytes = await Promise.all(paths.map((p) => readMaybeGzip(p, limits)));
  const hash = createHash('sha256');
  for (const b of bytes) hash.update(b);
  const parsed = bytes.map((b, i) => parseIdx(b, paths[i] ?? ''));
  const [trImg, trLab, teImg, teLab] = parsed as [IdxArray, IdxArray, IdxArray, IdxArray];
  return {
    train: toSplit(trImg, trLab, paths[0] ?? '', paths[1] ?? '', numClasses),
    test: toSplit(teImg, teLab, paths[2] ?? '', paths[3] ?? '', numClasses),
    sha256: hash.digest('hex'),
    paths,
  };
}

function toSplit(
  images: IdxArray,
  labels: IdxArray,
  imgPath: string,
  labPath: string,
  numClasses: number,
): Split {
  const [n, h, w, ...rest] = images.dims;
  if (images.dims.length !== 3 || h !== 28 || w !== 28 || rest.length > 0) {
    throw new DatasetError(
      'corrupt',
      `${imgPath}: expected images of dims N×28×28, found ${images.dims.join('×')}`,
      {
        path: imgPath,
      },
    );
  }
  if (labels.dims.length !== 1 || labels.dims[0] !== n) {
    throw new DatasetError(
      'corrupt',
      `${labPath}: expected ${n} labels (one per image in ${imgPath}), found dims ${labels.dims.join('×')}`,
      { path: labPath },
    );
  }
  const count = n ?? 0;
  const src = images.data;
  const x = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) x[i] = (src[i] as number) / 255;
  const y = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const label = labels.data[i] ?? 0;
    if (label >= numClasses) {
      throw new DatasetError(
        'corrupt',
        `${labPath}: label ${label} of item ${i} is not a class 0–${numClasses - 1}`,
        {
          path: labPath,
        },
      );
    }
    y[i] = label;
  }
  return { x, y, count };
}

/** Cheap presence check: all four files exist and the label headers parse; returns the counts. */
export async function probeIdxDirectory(dir: string): Promise<{ trainCount: number; testCount: number }> {
  const { found, missing } = await locateIdxFiles(dir);
  if (missing.length > 0)
    throw new DatasetError('missing', `${dir}: missing ${missing.join(', ')}`, { path: dir });
  const count = async (f: IdxFile): Promise<number> => {
    const p = found.get(f) ?? '';
    return parseIdx(await readMaybeGzip(p), p).dims[0] ?? 0;
  };
  return {
    trainCount: await count('train-labels-idx1-ubyte'),
    testCount: await count('t10k-labels-idx1-ubyte'),
  };
}
