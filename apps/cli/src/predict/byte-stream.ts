import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { ChorusError } from '@chorus/protocol';

/** A file's bytes as a stream, gunzipped when it starts with gzip's magic 1f 8b. */
export async function openByteStream(path: string): Promise<Readable> {
  const magic = Buffer.alloc(2);
  try {
    const handle = await open(path, 'r');
    try {
      await handle.read(magic, 0, 2, 0);
    } finally {
      await handle.close();
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ChorusError(
      'invalid-input',
      code === 'ENOENT' ? `${path}: file not found` : `${path}: cannot read (${code ?? String(error)})`,
    );
  }
  const file = createReadStream(path);
  if (magic[0] !== 0x1f || magic[1] !== 0x8b) return file;
  const gunzip = createGunzip();
  file.on('error', (error) => gunzip.destroy(error));
  return file.pipe(gunzip);
}

/** Reads exactly the bytes asked for from a stream (fewer only at its end). */
export function createChunkReader(stream: Readable) {
  const chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let pending: Buffer[] = [];
  let held = 0;
  let ended = false;
  return {
    async read(bytes: number): Promise<Buffer> {
      while (held < bytes && !ended) {
        const next = await chunks.next();
        if (next.done) ended = true;
        else {
          pending.push(next.value);
          held += next.value.length;
        }
      }
      const all = pending.length === 1 ? (pending[0] as Buffer) : Buffer.concat(pending);
      const out = all.subarray(0, Math.min(bytes, all.length));
      const rest = all.subarray(out.length);
      pending = rest.length > 0 ? [rest] : [];
      held = rest.length;
      return out;
    },
    close(): void {
      stream.destroy();
    },
  };
}
