import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, type ReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BUNDLE_PREFIX_BYTES, bundleSha256, inspectBundleStart, isDatasetError } from '@chorus/data';
import { inspectWeights } from '@chorus/models';
import { ChorusError } from '@chorus/protocol';

const SHA256 = /^[0-9a-f]{64}$/;

export interface StoredBundle {
  sha256: string;
  bytes: number;
}

/**
 * Dataset bundles, content-addressed, under `<dataDir>/datasets/<sha256>.bundle`: what workers
 * download, and what the coordinator derives a run's splits from after a restart.
 */
export interface DatasetStore {
  readonly dir: string;
  /** Stores a bundle (once: an existing file with that hash is kept). */
  put(bundle: Uint8Array): Promise<StoredBundle>;
  /** Size in bytes, or undefined when the bundle is not stored. */
  size(sha256: string): Promise<number | undefined>;
  /**
   * Stores a bundle arriving as a stream (an upload): written to a temporary file while hashed,
   * at most `maxBytes`; renamed to its final name only when its sha256 is `sha256` and its header
   * and length are those of a bundle. On any failure (too large, wrong hash, not a bundle, the
   * stream cut off) the temporary file is removed and nothing is stored. `created`: false when the
   * bundle was there already.
   */
  putStream(
    sha256: string,
    source: AsyncIterable<Uint8Array>,
    maxBytes: number,
  ): Promise<StoredBundle & { created: boolean }>;
  /** The bundle's bytes, checked against its hash; undefined when it is not stored. */
  read(sha256: string): Promise<Uint8Array | undefined>;
  /** A stream of the stored bundle (throws not-found). */
  open(sha256: string): Promise<{ stream: ReadStream; bytes: number }>;
}

export function createDatasetStore(dataDir: string): DatasetStore {
  const store = createContentStore(join(dataDir, 'datasets'), 'bundle', 'dataset bundle', checkBundleFile);
  return {
    ...store,
    async put(bundle) {
      const sha256 = bundleSha256(bundle);
      const existing = await store.size(sha256);
      if (existing === bundle.byteLength) return { sha256, bytes: existing };
      await mkdir(store.dir, { recursive: true });
      // Write then rename: a reader never sees half a bundle.
      const tmp = `${store.pathOf(sha256)}.${process.pid}.${Date.now()}.tmp`;
      await writeFile(tmp, bundle);
      await rename(tmp, store.pathOf(sha256));
      return { sha256, bytes: bundle.byteLength };
    },
  };
}

/**
 * Initial weights of model files (README "Your own model"), content-addressed, under
 * `<dataDir>/weights/<sha256>.weights`: a Chorus weights container (libs/models weights.ts) that
 * `chorus run` uploads and workers download, as dataset bundles are.
 */
export type WeightsStore = Omit<DatasetStore, 'put'>;

export function createWeightsStore(dataDir: string): WeightsStore {
  return createContentStore(join(dataDir, 'weights'), 'weights', 'weights', async (path) => {
    try {
      inspectWeights(new Uint8Array(await readFile(path)));
    } catch (error) {
      throw new ChorusError(
        'invalid-input',
        `the upload is not a Chorus weights container: ${(error as Error).message}`,
      );
    }
  });
}

/**
 * Files named by the sha256 of their bytes under `dir` (`<sha256>.<suffix>`). An upload is written
 * to a temporary file while hashed and renamed only when its hash and `check` pass.
 */
function createContentStore(
  dir: string,
  suffix: string,
  what: string,
  check: (path: string, bytes: number) => Promise<void>,
): WeightsStore & { pathOf(sha256: string): string } {
  const pathOf = (sha256: string): string => {
    // The hash becomes a file name: only ever a 64-digit hex string.
    if (!SHA256.test(sha256))
      throw new ChorusError('invalid-input', `"${sha256}" is not a sha256 hex digest`);
    return join(dir, `${sha256}.${suffix}`);
  };
  const size = async (sha256: string): Promise<number | undefined> => {
    try {
      return (await stat(pathOf(sha256))).size;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  };

  return {
    dir,
    pathOf,
    size,
    async putStream(sha256, source, maxBytes) {
      const final = pathOf(sha256);
      await mkdir(dir, { recursive: true });
      const tmp = `${final}.${process.pid}.${randomBytes(6).toString('hex')}.upload`;
      const file = await open(tmp, 'wx');
      const hash = createHash('sha256');
      let bytes = 0;
      let stored = false;
      try {
        try {
          for await (const chunk of source) {
            bytes += chunk.byteLength;
            if (bytes > maxBytes) {
              throw new ChorusError(
                'too-large',
                `the upload is larger than ${maxBytes} bytes, the most this coordinator stores (CHORUS_UPLOAD_MAX_BYTES)`,
              );
            }
            hash.update(chunk);
            await file.write(chunk);
          }
        } finally {
          await file.close();
        }
        const got = hash.digest('hex');
        if (got !== sha256) {
          throw new ChorusError(
            'invalid-input',
            `the uploaded ${bytes} bytes have sha256 ${got}, not ${sha256} (cut off or changed in transit?)`,
          );
        }
        await check(tmp, bytes);
        await rename(tmp, final);
        stored = true;
        return { sha256, bytes, created: true };
      } finally {
        if (!stored) await rm(tmp, { force: true });
      }
    },
    async read(sha256) {
      let bytes: Uint8Array;
      try {
        const buffer = await readFile(pathOf(sha256));
        // A plain Uint8Array view, not a Buffer: Buffer#slice shares memory where Uint8Array#slice
        // copies, and decodeDatasetBundle relies on copies (aligned Float32Array views).
        bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
      if (createHash('sha256').update(bytes).digest('hex') !== sha256) {
        throw new ChorusError(
          'unavailable',
          `${what} ${pathOf(sha256)} is corrupt (its sha256 differs): delete it`,
        );
      }
      return bytes;
    },
    async open(sha256) {
      const bytes = await size(sha256);
      if (bytes === undefined) throw new ChorusError('not-found', `no ${what} ${sha256} on this coordinator`);
      return { stream: createReadStream(pathOf(sha256)), bytes };
    },
  };
}

/** Refuses a file whose header is not a bundle's or whose length is not the one its header gives. */
async function checkBundleFile(path: string, bytes: number): Promise<void> {
  const file = await open(path, 'r');
  try {
    const readStart = async (n: number): Promise<Uint8Array> => {
      const buffer = new Uint8Array(Math.min(n, bytes));
      await file.read(buffer, 0, buffer.length, 0);
      return buffer;
    };
    let start = await readStart(BUNDLE_PREFIX_BYTES);
    let seen = inspectBundleStart(start, 'the upload');
    if ('needs' in seen) {
      if (seen.needs > bytes)
        throw new ChorusError('invalid-input', 'the upload is not a dataset bundle: its header is cut off');
      start = await readStart(seen.needs);
      seen = inspectBundleStart(start, 'the upload');
    }
    if ('needs' in seen) throw new ChorusError('invalid-input', 'the upload is not a dataset bundle');
    if (seen.totalBytes !== bytes) {
      throw new ChorusError(
        'invalid-input',
        `the upload is not a whole dataset bundle: its header says ${seen.totalBytes} bytes, it has ${bytes}`,
      );
    }
  } catch (error) {
    if (isDatasetError(error)) throw new ChorusError('invalid-input', error.message);
    throw error;
  } finally {
    await file.close();
  }
}
