import { createReadStream, type ReadStream } from 'node:fs';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bundleSha256 } from '@chorus/data';
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
  /** The bundle's bytes, checked against its hash; undefined when it is not stored. */
  read(sha256: string): Promise<Uint8Array | undefined>;
  /** A stream of the stored bundle (throws not-found). */
  open(sha256: string): Promise<{ stream: ReadStream; bytes: number }>;
}

export function createDatasetStore(dataDir: string): DatasetStore {
  const dir = join(dataDir, 'datasets');
  const pathOf = (sha256: string): string => {
    // The hash becomes a file name: only ever a 64-digit hex string.
    if (!SHA256.test(sha256))
      throw new ChorusError('invalid-input', `"${sha256}" is not a sha256 hex digest`);
    return join(dir, `${sha256}.bundle`);
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
    async put(bundle) {
      const sha256 = bundleSha256(bundle);
      const existing = await size(sha256);
      if (existing === bundle.byteLength) return { sha256, bytes: existing };
      await mkdir(dir, { recursive: true });
      // Write then rename: a reader never sees half a bundle.
      const tmp = `${pathOf(sha256)}.${process.pid}.${Date.now()}.tmp`;
      await writeFile(tmp, bundle);
      await rename(tmp, pathOf(sha256));
      return { sha256, bytes: bundle.byteLength };
    },
    size,
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
      if (bundleSha256(bytes) !== sha256) {
        throw new ChorusError(
          'unavailable',
          `dataset bundle ${pathOf(sha256)} is corrupt (its sha256 differs): delete it`,
        );
      }
      return bytes;
    },
    async open(sha256) {
      const bytes = await size(sha256);
      if (bytes === undefined)
        throw new ChorusError('not-found', `no dataset bundle ${sha256} on this coordinator`);
      return { stream: createReadStream(pathOf(sha256)), bytes };
    },
  };
}
