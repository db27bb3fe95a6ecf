import { DatasetError } from './errors';
import { readMaybeGzip } from './io';

export interface IdxArray {
  dims: number[];
  /** The data bytes (a view into the file bytes, no copy). */
  data: Uint8Array;
}

const IDX_TYPES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'int16',
  0x0c: 'int32',
  0x0d: 'float32',
  0x0e: 'float64',
};

const fmt = (n: number): string => n.toLocaleString('en-US');

/**
 * Parses an IDX file (LeCun's MNIST format): magic 0x00 0x00 <type> <ndims>, then ndims big-endian
 * uint32 sizes, then the data. Only type 0x08 (unsigned byte) is read — the type every MNIST-like
 * dataset uses. Errors name the file and say what is wrong.
 */
export function parseIdx(bytes: Uint8Array, nameForErrors: string): IdxArray {
  const fail = (msg: string, code: 'corrupt' | 'unsupported' = 'corrupt'): never => {
    throw new DatasetError(code, `${nameForErrors}: ${msg}`, { path: nameForErrors });
  };
  if (bytes.length < 4) fail(`too short for an IDX header (${bytes.length} bytes, need at least 4)`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    fail(`not an IDX file: magic starts with 0x${hex(bytes[0])} 0x${hex(bytes[1])}, expected 0x00 0x00`);
  }
  const type = bytes[2] ?? 0;
  const ndims = bytes[3] ?? 0;
  const typeName = IDX_TYPES[type];
  if (typeName === undefined) fail(`unknown IDX data type 0x${hex(type)}`);
  if (type !== 0x08)
    fail(
      `IDX data type 0x${hex(type)} (${typeName}) is not supported; only 0x08 (unsigned byte) is`,
      'unsupported',
    );
  if (ndims === 0) fail('IDX header declares 0 dimensions');
  const headerSize = 4 + 4 * ndims;
  if (bytes.length < headerSize) {
    fail(`truncated header: ${ndims} dimensions need ${headerSize} header bytes, file has ${bytes.length}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let size = 1;
  for (let i = 0; i < ndims; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    size *= d;
  }
  const expected = headerSize + size;
  if (bytes.length !== expected) {
    const what = bytes.length < expected ? 'truncated' : 'has trailing bytes';
    fail(
      `${what}: dims ${dims.join('×')} need ${fmt(expected)} bytes (header ${headerSize} + data ${fmt(size)}), ` +
        `file has ${fmt(bytes.length)}`,
    );
  }
  return { dims, data: bytes.subarray(headerSize) };
}

/** Reads and parses an IDX file, raw or gzip-compressed (detected by its magic bytes). */
export async function readIdx(path: string): Promise<IdxArray> {
  return parseIdx(await readMaybeGzip(path), path);
}

function hex(b: number | undefined): string {
  return (b ?? 0).toString(16).padStart(2, '0');
}
