/**
 * Checkpoint bytes checked without tfjs (the coordinator verifies what a worker sends before it is
 * stored). The formats are written by libs/models (checkpoint.ts: the "CHCK" container with a
 * CRC-32 per section; weights.ts: the "CHWT" weights it holds, or alone in the older format);
 * this reads their headers, lengths and checksums, and counts the weights' values.
 */

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * Node's own CRC-32 (zlib.crc32, Node ≥ 20.15), found at run time so that this package imports
 * nothing but zod and still runs in a browser: about 50× the speed of the table below, which
 * matters for checkpoints of hundreds of MB (the table took 4.6 s for 305 MB, blocking the
 * worker's heartbeats). Both give the same values (checkpoint-stream.test.ts).
 */
type Crc32 = (bytes: Uint8Array, value?: number) => number;
const nativeCrc32: Crc32 | undefined = (() => {
  const host = globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } };
  const zlib = host.process?.getBuiltinModule?.('node:zlib') as { crc32?: Crc32 } | undefined;
  return typeof zlib?.crc32 === 'function' ? zlib.crc32 : undefined;
})();

/** CRC-32 (IEEE, as zlib). */
export function crc32(bytes: Uint8Array): number {
  return crc32Continue(0, bytes);
}

/** The CRC-32 of the bytes before (`crc`, 0 at the start) followed by `bytes`: for bytes in pieces. */
export function crc32Continue(crc: number, bytes: Uint8Array, native = true): number {
  if (native && nativeCrc32 !== undefined) return nativeCrc32(bytes, crc) >>> 0;
  let c = (crc ^ 0xffffffff) >>> 0;
  for (let i = 0; i < bytes.length; i++)
    c = (CRC_TABLE[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Why checkpoint bytes were refused. */
export class CheckpointBytesError extends Error {
  override name = 'CheckpointBytesError';
}

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
const align = (n: number, to: number): number => Math.ceil(n / to) * to;

/** The JSON header of a "CHCK" or "CHWT" part; `what` (if any) prefixes the refusals. */
function headerOf(bytes: Uint8Array, what?: string): { json: unknown; end: number } {
  const refuse = (m: string) => new CheckpointBytesError(what ? `${what}: ${m}` : m);
  if (bytes.length < 12) throw refuse(`${bytes.length} bytes are too few`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(4, true);
  if (version !== 1) throw refuse(`format version ${version} is not supported`);
  const length = view.getUint32(8, true);
  if (12 + length > bytes.length) throw refuse('the header is truncated');
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(12, 12 + length));
    return { json: JSON.parse(text) as unknown, end: 12 + length };
  } catch {
    throw refuse('the header is not valid JSON');
  }
}

/** The number of values in "CHWT" weights bytes, after checking their header against their length. */
function weightValues(bytes: Uint8Array): number {
  const { json, end } = headerOf(bytes, 'weights');
  const list = (json as { weights?: unknown } | null)?.weights;
  if (!Array.isArray(list)) throw new CheckpointBytesError('weights: the header lists no weights');
  let values = 0;
  for (const w of list as Array<{ shape?: unknown; dtype?: unknown }>) {
    if (!Array.isArray(w?.shape) || !w.shape.every(isCount) || (w.dtype !== 'float32' && w.dtype !== 'int32'))
      throw new CheckpointBytesError('weights: an entry is not { name, shape, dtype }');
    values += (w.shape as number[]).reduce((a, b) => a * b, 1);
  }
  const expected = align(end, 4) + 4 * values;
  if (bytes.length !== expected)
    throw new CheckpointBytesError(`weights: ${bytes.length} bytes, the header describes ${expected}`);
  return values;
}

/** A section of a "CHCK" container: a byte range of its data and that range's CRC-32. */
export interface CheckpointSection {
  name: string;
  offset: number;
  length: number;
  crc32: number;
  /** Optimizer slots only: the variable and the slot (e.g. `m`, `v`) the float32 values belong to. */
  variable?: string;
  slot?: string;
}

/** Checkpoint bytes split into their parts, every length and checksum checked. */
export type CheckpointParts =
  | { format: 'weights-only'; weights: Uint8Array }
  | {
      format: 'container';
      /** The container's JSON header (its `sections` checked; the rest is the writer's to read). */
      header: Record<string, unknown> & { sections: CheckpointSection[] };
      weights: Uint8Array;
      /** The payload of each section after the first (the weights), in header order. */
      slots: Array<{ section: CheckpointSection; bytes: Uint8Array }>;
    };

/** The "CHCK" container format version this build reads and writes. */
export const CHECKPOINT_VERSION = 1;

/**
 * The one reader of the checkpoint container (libs/models decodes with it, the coordinator verifies
 * with it): magic number ("CHWT" alone is the older weights-only format), version, header, total
 * length and every section's CRC-32. Throws CheckpointBytesError.
 */
export function splitCheckpointBytes(bytes: Uint8Array): CheckpointParts {
  if (bytes.length < 12) throw new CheckpointBytesError(`${bytes.length} bytes are too few for a checkpoint`);
  const magic = new TextDecoder().decode(bytes.subarray(0, 4));
  if (magic === 'CHWT') return { format: 'weights-only', weights: bytes };
  if (magic !== 'CHCK')
    throw new CheckpointBytesError(
      'these bytes are not a Chorus checkpoint (neither a Chorus checkpoint nor Chorus weights: bad magic number)',
    );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(4, true);
  if (version !== CHECKPOINT_VERSION)
    throw new CheckpointBytesError(
      `checkpoint format version ${version} is not supported (this build reads version ${CHECKPOINT_VERSION})`,
    );
  const { json, end } = headerOf(bytes);
  const sections = (json as { sections?: unknown } | null)?.sections;
  if (
    json === null ||
    typeof json !== 'object' ||
    !Array.isArray(sections) ||
    !sections.every(
      (s: { name?: unknown; offset?: unknown; length?: unknown; crc32?: unknown }) =>
        typeof s?.name === 'string' && isCount(s.offset) && isCount(s.length) && isCount(s.crc32),
    )
  )
    throw new CheckpointBytesError('the header does not list sections as { name, offset, length, crc32 }');
  const list = sections as CheckpointSection[];
  if (list[0]?.name !== 'weights') throw new CheckpointBytesError('the first section is not the weights');
  const dataStart = align(end, 8);
  const size = list.reduce((n, s) => Math.max(n, s.offset + s.length), 0);
  if (bytes.length !== dataStart + size)
    throw new CheckpointBytesError(
      `${bytes.length} bytes, its header describes ${dataStart + size} (truncated or padded)`,
    );
  const payload = (s: CheckpointSection): Uint8Array => {
    const p = bytes.subarray(dataStart + s.offset, dataStart + s.offset + s.length);
    if (crc32(p) !== s.crc32) throw new CheckpointBytesError(`section ${s.name} fails its checksum`);
    return p;
  };
  const [first, ...rest] = list as [CheckpointSection, ...CheckpointSection[]];
  const weights = payload(first);
  const slots = rest.map((section) => ({ section, bytes: payload(section) }));
  const header = json as Record<string, unknown> & { sections: CheckpointSection[] };
  return { format: 'container', header, weights, slots };
}

/**
 * Checks checkpoint bytes (splitCheckpointBytes) and the weights' header against their length; with
 * `expectedParams`, that the weights hold the member's parameter count (model-size.ts). Returns the
 * count; throws CheckpointBytesError.
 */
export function verifyCheckpointBytes(bytes: Uint8Array, expectedParams?: number): number {
  let parts: CheckpointParts;
  try {
    parts = splitCheckpointBytes(bytes);
  } catch (error) {
    if (error instanceof CheckpointBytesError && !error.message.startsWith('these bytes'))
      throw new CheckpointBytesError(`checkpoint: ${error.message}`);
    throw error;
  }
  const values = weightValues(parts.weights);
  if (expectedParams !== undefined && values !== expectedParams)
    throw new CheckpointBytesError(
      `the weights hold ${values} parameters, this member has ${expectedParams}`,
    );
  return values;
}

/**
 * A checkpoint container of float32 weights of these shapes (zeros unless `fill` says), without
 * optimizer state: what libs/models writes, for tests and tools that have no tfjs.
 */
export function encodeCheckpointBytes(
  shapes: number[][],
  fill: (i: number) => number = () => 0,
): Uint8Array<ArrayBuffer> {
  const entries = shapes.map((shape, i) => ({ name: `w${i}/kernel`, shape, dtype: 'float32' as const }));
  const wHeader = new TextEncoder().encode(JSON.stringify({ weights: entries }));
  const values = shapes.reduce((n, s) => n + s.reduce((a, b) => a * b, 1), 0);
  const wStart = align(12 + wHeader.length, 4);
  const weights = new Uint8Array(wStart + 4 * values);
  const wView = new DataView(weights.buffer);
  weights.set(new TextEncoder().encode('CHWT'), 0);
  wView.setUint32(4, 1, true);
  wView.setUint32(8, wHeader.length, true);
  weights.set(wHeader, 12);
  for (let i = 0; i < values; i++) wView.setFloat32(wStart + 4 * i, fill(i), true);
  const header = new TextEncoder().encode(
    JSON.stringify({
      step: 0,
      optimizer: null,
      sections: [{ name: 'weights', offset: 0, length: weights.length, crc32: crc32(weights) }],
    }),
  );
  const start = align(12 + header.length, 8);
  const bytes = new Uint8Array(start + weights.length);
  const view = new DataView(bytes.buffer);
  bytes.set(new TextEncoder().encode('CHCK'), 0);
  view.setUint32(4, 1, true);
  view.setUint32(8, header.length, true);
  bytes.set(header, 12);
  bytes.set(weights, start);
  return bytes;
}
