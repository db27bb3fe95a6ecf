import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { DatasetError } from './errors';
import { checkReadablePath, type ReadLimits } from './io';

/** A file read as a stream of (decompressed) chunks, without holding it in memory. */
export interface ByteStream {
  chunks: AsyncIterable<Buffer>;
  /** Bytes of the file itself read so far (compressed bytes for a gzip file). */
  bytesRead(): number;
  /** The file's size on disk. */
  totalBytes: number;
}

/**
 * Opens a file for streaming, gunzipped when it starts with the gzip magic bytes (not by its name).
 * With `limits` the path is checked first (checkReadablePath) and the decompressed bytes may not
 * exceed maxBytes. A missing file is a `missing` DatasetError, a damaged gzip stream `corrupt`.
 */
export async function openByteStream(path: string, limits?: ReadLimits): Promise<ByteStream> {
  let real = path;
  let totalBytes: number;
  let gzip: boolean;
  try {
    if (limits) real = await checkReadablePath(path, limits);
    totalBytes = (await stat(real)).size;
    const head = Buffer.alloc(2);
    const file = await open(real, 'r');
    try {
      const { bytesRead } = await file.read(head, 0, 2, 0);
      gzip = bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
    } finally {
      await file.close();
    }
  } catch (e) {
    if (e instanceof DatasetError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new DatasetError('missing', `${path}: file not found`, { path, cause: e });
    throw new DatasetError('invalid', `${path}: cannot read (${code ?? String(e)})`, { path, cause: e });
  }
  const raw = createReadStream(real, { highWaterMark: 1 << 20 });
  const source = gzip ? raw.pipe(createGunzip()) : raw;
  if (gzip) raw.on('error', (e) => source.destroy(e));
  async function* chunks(): AsyncGenerator<Buffer> {
    let total = 0;
    try {
      for await (const chunk of source as AsyncIterable<Buffer>) {
        total += chunk.length;
        if (limits && total > limits.maxBytes) {
          throw new DatasetError(
            'invalid',
            `${path}: larger than ${limits.maxBytes} bytes, the most this process reads from one dataset file (CHORUS_DATASET_MAX_BYTES)`,
            { path },
          );
        }
        yield chunk;
      }
    } catch (e) {
      if (e instanceof DatasetError) throw e;
      throw new DatasetError(
        'corrupt',
        `${path}: ${gzip ? 'gzip data is damaged or truncated' : 'read failed'} (${(e as Error).message})`,
        { path, cause: e },
      );
    } finally {
      raw.destroy();
      if (source !== raw) source.destroy();
    }
  }
  return { chunks: chunks(), bytesRead: () => raw.bytesRead, totalBytes };
}
