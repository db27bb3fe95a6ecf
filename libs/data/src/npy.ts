import { DatasetError } from './errors';
import { readMaybeGzip } from './io';

/** The dtypes Chorus reads from .npy files (little-endian or byte-sized). */
export const NPY_DTYPES = ['f4', 'f8', 'u1', 'i1', 'i2', 'u2', 'i4', 'u4', 'i8', 'u8'] as const;
export type NpyDtype = (typeof NPY_DTYPES)[number];

/** A parsed .npy array: its dtype, shape and the raw little-endian data bytes. */
export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  /** The data, exactly shape's product × the item size bytes (a copy, aligned for typed arrays). */
  data: Uint8Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ITEM_SIZE: Record<NpyDtype, number> = {
  f4: 4,
  f8: 8,
  u1: 1,
  i1: 1,
  i2: 2,
  u2: 2,
  i4: 4,
  u4: 4,
  i8: 8,
  u8: 8,
};

/** What a `.npy` header says: the dtype, the shape, where the data starts, and how to read one value. */
export interface NpyHeader {
  dtype: NpyDtype;
  /** The header's own descr (e.g. '<f4'). */
  descr: string;
  shape: number[];
  /** Offset of the first data byte. */
  dataStart: number;
  /** Bytes per value. */
  width: number;
  /** The value at a byte offset of a view over the file (little-endian). */
  valueAt: (view: DataView, offset: number) => number;
}

type Reader = (view: DataView, offset: number) => number;
const READ: Record<NpyDtype, Reader> = {
  f4: (v, o) => v.getFloat32(o, true),
  f8: (v, o) => v.getFloat64(o, true),
  u1: (v, o) => v.getUint8(o),
  i1: (v, o) => v.getInt8(o),
  i2: (v, o) => v.getInt16(o, true),
  u2: (v, o) => v.getUint16(o, true),
  i4: (v, o) => v.getInt32(o, true),
  u4: (v, o) => v.getUint32(o, true),
  i8: (v, o) => Number(v.getBigInt64(o, true)),
  u8: (v, o) => Number(v.getBigUint64(o, true)),
};

/**
 * Parses the header of NumPy's .npy format (versions 1–3) from a file's first bytes (at least up
 * to the data): the magic string, the version, the header length (u16 in v1, u32 after), a Python
 * dict literal `{'descr': '<f4', 'fortran_order': False, 'shape': (N, …), }`. Fortran order,
 * big-endian and other dtypes (objects, strings, complex, float16) are `unsupported`. A reader can
 * then take the data a slice at a time (`chorus predict`) or whole (parseNpy). No npm package reads
 * .npy in Node with errors that name the file and the field, hence these lines.
 */
export function parseNpyHeader(bytes: Uint8Array, name: string): NpyHeader {
  const corrupt = (what: string) => new DatasetError('corrupt', `${name}: ${what}`, { path: name });
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b))
    throw corrupt('not a .npy file (no \\x93NUMPY magic)');
  const major = bytes[6] as number;
  if (major < 1 || major > 3)
    throw new DatasetError('unsupported', `${name}: .npy version ${major} is not supported (1–3)`, {
      path: name,
    });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthBytes) throw corrupt('truncated header');
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = 8 + lengthBytes + headerLength;
  if (dataStart > bytes.length)
    throw corrupt(`truncated header: needs ${dataStart} bytes, the file has ${bytes.length}`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(
    bytes.subarray(8 + lengthBytes, dataStart),
  );

  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw corrupt(
      `header is not a NumPy dict with descr, fortran_order and shape: ${header.trim().slice(0, 120)}`,
    );
  }
  if (fortran === 'True') {
    throw new DatasetError(
      'unsupported',
      `${name}: fortran_order is True: save it C-ordered (np.ascontiguousarray)`,
      { path: name },
    );
  }
  const order = descr[0];
  const dtype = descr.slice(1);
  if (
    !(NPY_DTYPES as readonly string[]).includes(dtype) ||
    (order !== '<' && order !== '|' && order !== '=')
  ) {
    throw new DatasetError(
      'unsupported',
      `${name}: dtype '${descr}' is not supported: features float32, float64 or uint8, labels integers (little-endian)`,
      { path: name },
    );
  }
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => Number(s.replace(/L$/, '')));
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0))
    throw corrupt(`shape (${shapeText}) is not a tuple of sizes`);
  const type = dtype as NpyDtype;
  return { dtype: type, descr, shape, dataStart, width: ITEM_SIZE[type], valueAt: READ[type] };
}

/** A whole .npy file (parseNpyHeader's rules); a file shorter or longer than its shape says is `corrupt`. */
export function parseNpy(bytes: Uint8Array, name: string): NpyArray {
  const { dtype, descr, shape, dataStart, width } = parseNpyHeader(bytes, name);
  const want = shape.reduce((a, b) => a * b, 1) * width;
  const have = bytes.length - dataStart;
  const corrupt = (what: string) => new DatasetError('corrupt', `${name}: ${what}`, { path: name });
  if (have < want) {
    throw corrupt(
      `truncated: shape (${shape.join(', ')}) of '${descr}' needs ${want} data bytes, the file has ${have}`,
    );
  }
  if (have > want) throw corrupt(`${have - want} bytes after the data its shape (${shape.join(', ')}) holds`);
  return { dtype, shape, data: new Uint8Array(bytes.subarray(dataStart)) };
}

/** The values of an array as float64 numbers, one at a time (for conversion and checks). */
export function npyValues(a: NpyArray): ArrayLike<number> {
  const { buffer, byteOffset, byteLength } = a.data;
  switch (a.dtype) {
    case 'f4':
      return new Float32Array(buffer, byteOffset, byteLength / 4);
    case 'f8':
      return new Float64Array(buffer, byteOffset, byteLength / 8);
    case 'u1':
      return a.data;
    case 'i1':
      return new Int8Array(buffer, byteOffset, byteLength);
    case 'i2':
      return new Int16Array(buffer, byteOffset, byteLength / 2);
    case 'u2':
      return new Uint16Array(buffer, byteOffset, byteLength / 2);
    case 'i4':
      return new Int32Array(buffer, byteOffset, byteLength / 4);
    case 'u4':
      return new Uint32Array(buffer, byteOffset, byteLength / 4);
    case 'i8':
      return Float64Array.from(new BigInt64Array(buffer, byteOffset, byteLength / 8), Number);
    case 'u8':
      return Float64Array.from(new BigUint64Array(buffer, byteOffset, byteLength / 8), Number);
  }
}

/** True for the dtypes that hold integers. */
export function isIntegerDtype(dtype: NpyDtype): boolean {
  return dtype !== 'f4' && dtype !== 'f8';
}

/** Reads a `.npy` file (plain or gzipped); see parseNpy. */
export async function readNpy(path: string): Promise<NpyArray> {
  return parseNpy(await readMaybeGzip(path), path);
}
