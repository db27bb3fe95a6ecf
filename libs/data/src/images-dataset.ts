import { createHash } from 'node:crypto';
import { MAX_IMAGE_SIDE } from '@chorus/protocol';
import type { default as SharpFn, Metadata, OutputInfo } from 'sharp';
import { DEFAULT_TEST_FRACTION, TEST_STREAM } from './csv-dataset';
import { DatasetError } from './errors';
import { scanImageFolder, type ImageFile } from './image-folder';
import { checkReadablePath, readMaybeGzip } from './io';
import { createRng, permutation } from './rng';
import type { Dataset, LoadOptions, Split } from './types';

let sharpModule: Promise<typeof SharpFn> | undefined;
/** sharp (native) loads on first use, so a bundle of the CLI without it (the GPU kit) still starts. */
const loadSharp = (): Promise<typeof SharpFn> => (sharpModule ??= import('sharp').then((m) => m.default));

/**
 * Images decoded at once: sharp decodes on libuv's thread pool (4 threads by default), so 8 keep
 * it busy while the next files are read. Each decode runs on one libvips thread (sharp.concurrency
 * 1 while loading): for small images, splitting one image over threads costs more than it gains
 * (measured: about 1.5× more images/s with 1 than with the default).
 */
const DECODE_CONCURRENCY = 8;

interface Probe {
  width: number;
  height: number;
  gray: boolean;
}

/**
 * Loads an `images` dataset (README "Your own data", images; the layouts: image-folder.ts). Every
 * image is decoded with sharp, flattened onto black when it has an alpha channel, stretched to
 * `imageSize` [h, w] when given (else all images must share the first one's size), converted to
 * `channels` (default 1 when every image is grayscale, else 3) and scaled to [0, 1] (/255), like
 * the built-in image datasets, so bundles store one byte per value. Decoding writes straight into
 * the two preallocated splits: memory is the dataset's floats plus DECODE_CONCURRENCY images.
 */
export async function loadImagesDataset(options: LoadOptions): Promise<Dataset> {
  const dir = options.path;
  if (dir === undefined) {
    throw new DatasetError(
      'invalid',
      'an images dataset needs `path` (--dataset-path): a directory of class folders',
    );
  }
  const folder = await scanImageFolder(dir, options.limits);
  const hash = createHash('sha256');
  let trainFiles: ImageFile[];
  let testFiles: ImageFile[];
  let how: string;
  if (folder.test !== undefined) {
    if (options.testFraction !== undefined) {
      throw new DatasetError(
        'invalid',
        `${dir}: has train/ and test/ folders, so a test fraction does not apply`,
        { path: dir },
      );
    }
    trainFiles = folder.train;
    testFiles = folder.test;
    how = 'train/ and test/ folders';
  } else {
    const fraction = options.testFraction ?? DEFAULT_TEST_FRACTION;
    const seed = options.seed ?? 1;
    ({ train: trainFiles, test: testFiles } = holdOutFiles(folder.train, fraction, seed, dir));
    how = `${fraction * 100}% held out as the test split with seed ${seed}`;
    hash.update(JSON.stringify({ testFraction: fraction, seed }));
  }
  const all = [...trainFiles, ...testFiles];
  const probe =
    options.imageSize === undefined || options.channels === undefined
      ? await probeAll(all, options)
      : undefined;
  const [height, width] = options.imageSize ?? [probe?.height as number, probe?.width as number];
  const channels = options.channels ?? (probe?.gray === true ? 1 : 3);
  const features = height * width * channels;
  const train: Split = {
    x: new Float32Array(trainFiles.length * features),
    y: Int32Array.from(trainFiles, (f) => f.label),
    count: trainFiles.length,
  };
  const test: Split = {
    x: new Float32Array(testFiles.length * features),
    y: Int32Array.from(testFiles, (f) => f.label),
    count: testFiles.length,
  };
  const target = { height, width, channels, resize: options.imageSize !== undefined };
  const digests = new Array<string>(all.length);
  let done = 0;
  const sharp = await loadSharp();
  const vipsThreads = sharp.concurrency();
  sharp.concurrency(1);
  try {
    await forEachLimited(all.length, DECODE_CONCURRENCY, async (i) => {
      const inTrain = i < trainFiles.length;
      const file = all[i] as ImageFile;
      const bytes = await readMaybeGzip(file.path, options.limits);
      digests[i] = createHash('sha256').update(bytes).digest('hex');
      const pixels = await decodeImage(bytes, file.path, target);
      const split = inTrain ? train : test;
      const at = (inTrain ? i : i - trainFiles.length) * features;
      for (let j = 0; j < features; j++) split.x[at + j] = (pixels[j] as number) / 255;
      done++;
      options.onProgress?.({
        path: dir,
        bytesRead: done,
        totalBytes: all.length,
        rows: done,
        unit: 'images',
      });
    });
  } finally {
    sharp.concurrency(vipsThreads);
  }
  all.forEach((f, i) => hash.update(`${f.label}\0${f.path.slice(dir.length)}\0${digests[i] as string}\n`));
  hash.update(JSON.stringify({ classes: folder.classes.names, height, width, channels }));
  const sizeSource = options.imageSize !== undefined ? 'resized' : 'as found';
  const channelSource =
    options.channels !== undefined ? 'as asked' : probe?.gray === true ? 'all grayscale' : 'colour sources';
  return {
    name: 'images',
    inputShape: [height, width, channels],
    numClasses: folder.classes.names.length,
    train,
    test,
    sha256: hash.digest('hex'),
    source:
      `${dir} (${all.length} images, ${height}×${width} ${sizeSource}, ${channels} channel${channels === 1 ? '' : 's'} (${channelSource}), ` +
      `classes = folder names sorted: ${folder.classes.names.join(', ')}; ${how})`,
    classNames: folder.classes.names,
    preprocess: {
      normalize: 'none',
      scale: 255,
      image: { height, width, channels, fit: 'fill', alpha: 'flatten-black' },
    },
  };
}

/**
 * The size of the first image, when every image has it, and whether all are grayscale (sharp's
 * header read, no decoding). Mixed sizes are refused naming the first image that differs.
 */
async function probeAll(files: ImageFile[], options: LoadOptions): Promise<Probe> {
  const probes = new Array<Probe>(files.length);
  await forEachLimited(files.length, DECODE_CONCURRENCY * 2, async (i) => {
    const file = files[i] as ImageFile;
    let meta: Metadata;
    try {
      // With limits, sharp reads only a file that passed them (a link out of the roots does not).
      const real = options.limits ? await checkReadablePath(file.path, options.limits) : file.path;
      const sharp = await loadSharp();
      meta = await sharp(real, { failOn: 'error' }).metadata();
    } catch (e) {
      if (e instanceof DatasetError) throw e;
      throw undecodable(file.path, e);
    }
    probes[i] = { width: meta.width, height: meta.height, gray: meta.channels <= 2 || meta.space === 'b-w' };
  });
  const first = probes[0] as Probe;
  if (options.imageSize === undefined) {
    const odd = probes.findIndex((p) => p.width !== first.width || p.height !== first.height);
    if (odd >= 0) {
      const p = probes[odd] as Probe;
      throw new DatasetError(
        'corrupt',
        `${files[odd]?.path}: ${p.height}×${p.width} (height×width), but ${files[0]?.path} is ${first.height}×${first.width}: ` +
          'images of mixed sizes need --image-size HxW (datasetOptions.imageSize [h, w]) to resize them all',
        { path: files[odd]?.path },
      );
    }
    if (first.height > MAX_IMAGE_SIDE || first.width > MAX_IMAGE_SIDE) {
      throw new DatasetError(
        'unsupported',
        `${files[0]?.path}: ${first.height}×${first.width} is larger than ${MAX_IMAGE_SIDE} on a side: pass a smaller --image-size HxW`,
        { path: files[0]?.path },
      );
    }
  }
  return { ...first, gray: probes.every((p) => p.gray) };
}

function undecodable(path: string, e: unknown): DatasetError {
  return new DatasetError('corrupt', `${path}: not a decodable image (${(e as Error).message})`, {
    path,
    cause: e,
  });
}

/** The pixels of one image, height × width × channels bytes, row-major. */
async function decodeImage(
  bytes: Uint8Array,
  path: string,
  target: { height: number; width: number; channels: number; resize: boolean },
): Promise<Uint8Array> {
  const sharp = await loadSharp();
  let image = sharp(bytes, { failOn: 'error' }).flatten({ background: '#000000' });
  if (target.resize) image = image.resize(target.width, target.height, { fit: 'fill' });
  image = target.channels === 1 ? image.grayscale() : image.toColourspace('srgb');
  let out: { data: Buffer; info: OutputInfo };
  try {
    out = await image.raw().toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw undecodable(path, e);
  }
  const { info } = out;
  if (info.width !== target.width || info.height !== target.height) {
    throw new DatasetError(
      'corrupt',
      `${path}: ${info.height}×${info.width} (height×width), but the dataset's images are ${target.height}×${target.width}: ` +
        'images of mixed sizes need --image-size HxW (datasetOptions.imageSize [h, w])',
      { path },
    );
  }
  if (info.channels !== target.channels) {
    throw new DatasetError(
      'unsupported',
      `${path}: decoded to ${info.channels} channels, expected ${target.channels}`,
      { path },
    );
  }
  return out.data;
}

/** A seeded `fraction` of the files as the test split (files keep their order in both parts). */
function holdOutFiles(
  all: ImageFile[],
  fraction: number,
  seed: number,
  dir: string,
): { train: ImageFile[]; test: ImageFile[] } {
  const k = Math.round(all.length * fraction);
  if (!(fraction > 0 && fraction < 1) || k < 1 || k >= all.length) {
    throw new DatasetError(
      'invalid',
      `${dir}: a test fraction of ${fraction} of ${all.length} images leaves ${k} test and ${all.length - k} training images; both need at least one`,
      { path: dir },
    );
  }
  const perm = permutation(all.length, createRng(seed, TEST_STREAM));
  const pick = (idx: Int32Array): ImageFile[] => Array.from(idx.sort(), (i) => all[i] as ImageFile);
  return { train: pick(perm.slice(k)), test: pick(perm.slice(0, k)) };
}

/** Runs `work(0 … n-1)` with at most `limit` calls in flight; the first failure stops new calls. */
async function forEachLimited(n: number, limit: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const lane = async (): Promise<void> => {
    while (!failed && next < n) {
      const i = next++;
      try {
        await work(i);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, lane));
}
