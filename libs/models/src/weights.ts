/**
 * Checkpoint bytes: self-describing, so a checkpoint can be checked against the model it is loaded
 * into. Layout (little-endian):
 *   "CHWT" · u32 version (1) · u32 header length · header JSON (UTF-8) · zero padding to 4 bytes ·
 *   the tensors' data, back to back, in header order.
 * Header: { weights: [{ name, shape, dtype }] } with the weights' layer-scoped names
 * ("hidden1/kernel"), which do not depend on how many models the process has built.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { ModelError } from './errors';
import { yieldToEventLoop } from './yield';

const MAGIC = 0x54574843; // "CHWT" read as little-endian u32
const VERSION = 1;

export interface WeightEntry {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
}

function entries(model: tfl.LayersModel): { entry: WeightEntry; variable: tfl.LayerVariable }[] {
  return model.weights.map((variable) => {
    if (variable.dtype !== 'float32' && variable.dtype !== 'int32') {
      throw new ModelError(
        'weights-mismatch',
        `weight ${variable.originalName} has unsupported dtype ${variable.dtype}`,
      );
    }
    return {
      entry: { name: variable.originalName, shape: [...variable.shape] as number[], dtype: variable.dtype },
      variable,
    };
  });
}

const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * All weights of the model (trainable and not, e.g. BatchNorm moving statistics) as bytes, read
 * variable by variable with a turn of the event loop after each.
 */
export async function saveWeights(model: tfl.LayersModel): Promise<Uint8Array> {
  const list = entries(model);
  const tensors: WeightTensor[] = [];
  for (const { entry, variable } of list) {
    const values = await variable.read().data();
    tensors.push({ ...entry, values: values as Float32Array | Int32Array });
    await yieldToEventLoop();
  }
  return encodeWeights(tensors);
}

/** A weight and its values (row-major), as encodeWeights takes them. */
export interface WeightTensor extends WeightEntry {
  values: ArrayLike<number>;
}

/** The bytes of `saveWeights` from weights given as arrays (the initial weights of a model file). */
export function encodeWeights(tensors: readonly WeightTensor[]): Uint8Array {
  const header = new TextEncoder().encode(
    JSON.stringify({ weights: tensors.map(({ name, shape, dtype }) => ({ name, shape, dtype })) }),
  );
  const dataStart = Math.ceil((12 + header.length) / 4) * 4;
  const total = dataStart + tensors.reduce((n, t) => n + 4 * size(t.shape), 0);
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, VERSION, true);
  view.setUint32(8, header.length, true);
  bytes.set(header, 12);
  let offset = dataStart;
  for (const t of tensors) {
    const n = size(t.shape);
    if (t.values.length !== n) {
      throw mismatch(`weight ${t.name}: ${t.values.length} values for shape [${t.shape}] (${n})`);
    }
    const target = t.dtype === 'float32' ? new Float32Array(n) : new Int32Array(n);
    target.set(t.values);
    writeLittleEndian(bytes, offset, target);
    offset += 4 * n;
  }
  return bytes;
}

/** The weights `bytes` (from saveWeights or encodeWeights) list, checked for a well-formed container. */
export function inspectWeights(bytes: Uint8Array): WeightEntry[] {
  return parse(bytes).weights;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function writeLittleEndian(bytes: Uint8Array, offset: number, values: Float32Array | Int32Array): void {
  if (LITTLE_ENDIAN) {
    bytes.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), offset);
    return;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  values.forEach((v, i) =>
    values instanceof Float32Array
      ? view.setFloat32(offset + 4 * i, v, true)
      : view.setInt32(offset + 4 * i, v, true),
  );
}

function readLittleEndian(
  bytes: Uint8Array,
  offset: number,
  n: number,
  dtype: WeightEntry['dtype'],
): Float32Array | Int32Array {
  const out = dtype === 'float32' ? new Float32Array(n) : new Int32Array(n);
  if (LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(bytes.subarray(offset, offset + 4 * n));
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  for (let i = 0; i < n; i++)
    out[i] =
      dtype === 'float32' ? view.getFloat32(offset + 4 * i, true) : view.getInt32(offset + 4 * i, true);
  return out;
}

function mismatch(message: string): ModelError {
  return new ModelError('weights-mismatch', message);
}

function parse(bytes: Uint8Array): { weights: WeightEntry[]; dataStart: number } {
  if (bytes.length < 12)
    throw mismatch(`checkpoint is ${bytes.length} bytes: too short to be Chorus weights`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC)
    throw mismatch('these bytes are not Chorus weights (bad magic number)');
  const version = view.getUint32(4, true);
  if (version !== VERSION)
    throw mismatch(`checkpoint format version ${version} is not supported (expected ${VERSION})`);
  const headerLength = view.getUint32(8, true);
  if (12 + headerLength > bytes.length) throw mismatch('checkpoint header is truncated');
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerLength)));
  } catch (e) {
    throw new ModelError('weights-mismatch', 'checkpoint header is not valid JSON', { cause: e });
  }
  const weights = (header as { weights?: unknown }).weights;
  const valid =
    Array.isArray(weights) &&
    weights.every(
      (w: Partial<WeightEntry>) =>
        typeof w.name === 'string' &&
        Array.isArray(w.shape) &&
        w.shape.every((d) => Number.isInteger(d) && d >= 0) &&
        (w.dtype === 'float32' || w.dtype === 'int32'),
    );
  if (!valid) throw mismatch('checkpoint header does not list weights as {name, shape, dtype}');
  const dataStart = Math.ceil((12 + headerLength) / 4) * 4;
  const expected = dataStart + (weights as WeightEntry[]).reduce((n, w) => n + 4 * size(w.shape), 0);
  if (bytes.length !== expected)
    throw mismatch(`checkpoint is ${bytes.length} bytes, its header describes ${expected}`);
  return { weights: weights as WeightEntry[], dataStart };
}

/**
 * Loads bytes from `saveWeights` into `model`. The checkpoint must hold exactly the model's weights
 * (same names, shapes and dtypes); otherwise nothing is changed and a 'weights-mismatch' error says
 * what differs.
 */
export async function loadWeights(model: tfl.LayersModel, bytes: Uint8Array): Promise<void> {
  const { weights, dataStart } = parse(bytes);
  const list = entries(model);
  const saved = new Map(weights.map((w, i) => [w.name, { w, i }]));
  const missing = list.filter((l) => !saved.has(l.entry.name)).map((l) => l.entry.name);
  const expectedNames = new Set(list.map((l) => l.entry.name));
  const extra = weights.filter((w) => !expectedNames.has(w.name)).map((w) => w.name);
  if (missing.length > 0 || extra.length > 0 || weights.length !== list.length) {
    throw mismatch(
      `checkpoint does not match the model: missing [${missing.join(', ')}], unexpected [${extra.join(', ')}]` +
        ' — was it saved from a different model or width?',
    );
  }
  const offsets: number[] = [];
  let offset = dataStart;
  for (const w of weights) {
    offsets.push(offset);
    offset += 4 * size(w.shape);
  }
  for (const { entry } of list) {
    const { w } = saved.get(entry.name) as { w: WeightEntry };
    if (
      w.dtype !== entry.dtype ||
      w.shape.length !== entry.shape.length ||
      w.shape.some((d, k) => d !== entry.shape[k])
    ) {
      throw mismatch(
        `weight ${entry.name}: checkpoint has ${w.dtype} [${w.shape}], the model ${entry.dtype} [${entry.shape}]`,
      );
    }
  }
  for (const { entry, variable } of list) {
    const { w, i } = saved.get(entry.name) as { w: WeightEntry; i: number };
    const values = readLittleEndian(bytes, offsets[i] as number, size(w.shape), w.dtype);
    const t = tf.tensor(values, w.shape, w.dtype);
    try {
      variable.write(t);
    } finally {
      t.dispose();
    }
    await yieldToEventLoop();
  }
}
