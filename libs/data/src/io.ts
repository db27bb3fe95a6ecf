import { open, readFile, realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { DatasetError } from './errors';

const gunzipAsync = promisify(gunzip);

/**
 * Where a process that reads paths chosen by someone else (the coordinator: a run's `datasetPath`)
 * may read, and how much. Without limits a path is read as given (the CLI reads its user's files).
 */
export interface ReadLimits {
  /** Directories the files must lie under, after symbolic links are resolved. */
  roots: readonly string[];
  /** The most bytes one file may hold, decompressed. */
  maxBytes: number;
}

/** Pseudo-filesystems whose files are not data and whose sizes lie (a 0-byte /proc file has content). */
const NEVER_READ = ['/proc', '/sys', '/dev'];

/** True when the bytes start with the gzip magic number 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

const inside = (dir: string, path: string): boolean => {
  const rel = relative(dir, path);
  return rel === '' || (rel !== '..' && !rel.startsWith('../') && !isAbsolute(rel));
};

/**
 * Checks a path against `limits` before anything is read: its real path (symbolic links
 * resolved) lies under one of the roots and not in /proc, /sys or /dev, and it is a regular file
 * (or, with `directory`, a directory) of at most maxBytes. Returns the real path. Refusals are
 * `invalid` DatasetErrors naming the path as given, never anything read from it.
 */
export async function checkReadablePath(
  path: string,
  limits: ReadLimits,
  allow: { directory?: boolean } = {},
): Promise<string> {
  let real: string;
  try {
    real = await realpath(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new DatasetError('missing', `${path}: file not found`, { path, cause: e });
    throw new DatasetError('invalid', `${path}: cannot read (${code ?? 'error'})`, { path, cause: e });
  }
  if (NEVER_READ.some((dir) => inside(dir, real))) {
    throw new DatasetError('invalid', `${path}: not a dataset location (a system pseudo-file)`, { path });
  }
  const roots = await Promise.all(limits.roots.map((r) => realpath(r).catch(() => resolve(r))));
  if (!roots.some((root) => inside(root, real))) {
    throw new DatasetError(
      'invalid',
      `${path}: outside the dataset roots this process reads from (--dataset-root / CHORUS_DATASET_ROOTS)`,
      { path },
    );
  }
  const info = await stat(real);
  if (info.isDirectory() && allow.directory === true) return real;
  if (!info.isFile()) {
    throw new DatasetError(
      'invalid',
      `${path}: not a regular file${allow.directory === true ? ' or directory' : ''}`,
      { path },
    );
  }
  if (info.size > limits.maxBytes) throw tooLarge(path, limits);
  return real;
}

const tooLarge = (path: string, limits: ReadLimits): DatasetError =>
  new DatasetError(
    'invalid',
    `${path}: larger than ${limits.maxBytes} bytes, the most this process reads from one dataset file (CHORUS_DATASET_MAX_BYTES)`,
    { path },
  );

/** At most maxBytes of a file; refused when it holds more (a file may grow after its stat). */
async function readBounded(path: string, real: string, limits: ReadLimits): Promise<Buffer> {
  const file = await open(real, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(1 << 20, limits.maxBytes + 1 - total));
      const { bytesRead } = await file.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > limits.maxBytes) throw tooLarge(path, limits);
      chunks.push(chunk.subarray(0, bytesRead));
    }
    return Buffer.concat(chunks, total);
  } finally {
    await file.close();
  }
}

/**
 * Reads a file and gunzips it when it is gzip-compressed (decided by its magic bytes, not its name).
 * A missing file is a `missing` DatasetError; a damaged gzip stream is `corrupt`. With `limits`,
 * the path is checked first (checkReadablePath) and neither the file nor its decompressed bytes
 * may exceed maxBytes.
 */
export async function readMaybeGzip(path: string, limits?: ReadLimits): Promise<Uint8Array> {
  let raw: Buffer;
  try {
    raw = limits
      ? await readBounded(path, await checkReadablePath(path, limits), limits)
      : await readFile(path);
  } catch (e) {
    if (e instanceof DatasetError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new DatasetError('missing', `${path}: file not found`, { path, cause: e });
    throw new DatasetError('invalid', `${path}: cannot read (${code ?? String(e)})`, { path, cause: e });
  }
  const bytes = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  if (!isGzip(bytes)) return bytes;
  let out: Buffer;
  try {
    out = await gunzipAsync(bytes, limits ? { maxOutputLength: limits.maxBytes } : {});
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' && limits) throw tooLarge(path, limits);
    throw new DatasetError(
      'corrupt',
      `${path}: gzip data is damaged or truncated (${(e as Error).message})`,
      {
        path,
        cause: e,
      },
    );
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
