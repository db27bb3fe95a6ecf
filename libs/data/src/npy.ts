import { DatasetError } from './errors';
import { readMaybeGzip } from './io';

/** A NumPy array read from a `.npy` file: its shape and its values as float32, in C order. */
export interface NpyArray {
  shape: number[];
  values: Float32Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

type Reader = (view: DataView, offset: number, little: boolean) => number;
const DTYPES: Record<string, { size: number; read: Reader }> = {
  f4: { size: 4, read: (v, o, l) => v.getFloat32(o, l) },
  f8: { size: 8, read: (v, o, l) => v.getFloat64(o, l) },
  u1: { size: 1, read: (v, o) => v.getUint8(o) },
  i1: { size: 1, read: (v, o) => v.getInt8(o) },
  u2: { size: 2, read: (v, o, l) => v.getUint16(o, l) },
  i2: { size: 2, read: (v, o, l) => v.getInt16(o, l) },
  u4: { size: 4, read: (v, o, l) => v.getUint32(o, l) },
  i4: { size: 4, read: (v, o, l) => v.getInt32(o, l) },
  i8: { size: 8, read: (v, o, l) => Number(v.getBigInt64(o, l)) },
  u8: { size: 8, read: (v, o, l) => Number(v.getBigUint64(o, l)) },
};

/** Reads a `.npy` file (plain or gzipped); see parseNpy. */
export async function readNpy(path: string): Promise<NpyArray> {
  return parseNpy(await readMaybeGzip(path), path);
}

/**
 * Parses NumPy's `.npy` format (versions 1–3): magic, version, header length, a Python dict
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (N, …)}`, then the data. Numeric dtypes
 * (float32/64, signed and unsigned ints of 1–8 bytes) in C order; values become float32.
 */
export function parseNpy(bytes: Uint8Array, path: string): NpyArray {
  const header = parseNpyHeader(bytes, path);
  const { shape, dataStart, width, valueAt } = header;
  const count = shape.reduce((a, b) => a * b, 1);
  if (bytes.length - dataStart !== count * width) {
    throw new DatasetError(
      'corrupt',
      `${path}: shape (${shape.join(', ')}) needs ${count * width} data bytes, the file has ${bytes.length - dataStart}`,
      { path },
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) values[i] = valueAt(view, dataStart + i * width);
  return { shape, values };
}

/** What a `.npy` header says: the shape, where the data starts, bytes per value, and how to read one. */
export interface NpyHeader {
  shape: number[];
  dataStart: number;
  width: number;
  valueAt: (view: DataView, offset: number) => number;
}

/**
 * Parses the header of a `.npy` file from its first bytes (at least `dataStart` of them: the header
 * is at most 64 KiB in version 1), so that a reader can take the data a slice at a time.
 */
export function parseNpyHeader(bytes: Uint8Array, path: string): NpyHeader {
  const fail = (message: string): never => {
    throw new DatasetError('corrupt', `${path}: ${message}`, { path });
  };
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b))
    fail('not a .npy file (no \\x93NUMPY magic)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6] as number;
  if (major < 1 || major > 3) fail(`.npy version ${major} is not supported (1–3 are)`);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  if (start + headerLength > bytes.length) fail('the header is cut short');
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLength));
  const descr = /'descr'\s*:\s*'([<>|=])([a-z])(\d+)'/.exec(header);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header);
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shapeText) fail(`cannot read the header ${JSON.stringify(header.trim())}`);
  const [, order, kind, size] = descr as RegExpExecArray;
  const dtype = DTYPES[`${kind}${size}`];
  if (dtype === undefined) fail(`dtype ${kind}${size} is not supported (floats and integers are)`);
  if ((fortran as RegExpExecArray)[1] === 'True')
    fail('Fortran-ordered arrays are not supported: save with C order');
  const shape = (shapeText as RegExpExecArray)[1]!
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) fail(`bad shape (${shape.join(', ')})`);
  const { size: width, read } = dtype as { size: number; read: Reader };
  const little = order !== '>';
  return { shape, dataStart: start + headerLength, width, valueAt: (v, o) => read(v, o, little) };
}
