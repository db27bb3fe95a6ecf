import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { DatasetError } from './errors';

const gunzipAsync = promisify(gunzip);

/** True when the bytes start with the gzip magic number 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Reads a file and gunzips it when it is gzip-compressed (decided by its magic bytes, not its name).
 * A missing file is a `missing` DatasetError; a damaged gzip stream is `corrupt`.
 */
export async function readMaybeGzip(path: string): Promise<Uint8Array> {
  let raw: Buffer;
  try {
    raw = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new DatasetError('missing', `${path}: file not found`, { path, cause: e });
    throw new DatasetError('invalid', `${path}: cannot read (${code ?? String(e)})`, { path, cause: e });
  }
  const bytes = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  if (!isGzip(bytes)) return bytes;
  try {
    const out = await gunzipAsync(bytes);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (e) {
    throw new DatasetError(
      'corrupt',
      `${path}: gzip data is damaged or truncated (${(e as Error).message})`,
      {
        path,
        cause: e,
      },
    );
  }
}
