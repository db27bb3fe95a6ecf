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

/** CRC-32 (IEEE, as zlib). */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
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

function headerOf(bytes: Uint8Array, what: string): { json: unknown; end: number } {
  if (bytes.length < 12) throw new CheckpointBytesError(`${what}: ${bytes.length} bytes are too few`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(4, true);
  if (version !== 1) throw new CheckpointBytesError(`${what}: format version ${version} is not supported`);
  const length = view.getUint32(8, true);
  if (12 + length > bytes.length) throw new CheckpointBytesError(`${what}: the header is truncated`);
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(12, 12 + length));
    return { json: JSON.parse(text) as unknown, end: 12 + length };
  } catch {
    throw new CheckpointBytesError(`${what}: the header is not valid JSON`);
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

/**
 * Checks checkpoint bytes: magic number, version, header, length and every section's CRC-32 of a
 * container, and the weights' header against their length; with `expectedParams`, that the weights
 * hold the member's parameter count (model-size.ts). Returns the count; throws CheckpointBytesError.
 */
export function verifyCheckpointBytes(bytes: Uint8Array, expectedParams?: number): number {
  const magic = new TextDecoder().decode(bytes.subarray(0, 4));
  let weights: Uint8Array;
  if (magic === 'CHWT') weights = bytes;
  else if (magic === 'CHCK') {
    const { json, end } = headerOf(bytes, 'checkpoint');
    const sections = (json as { sections?: unknown } | null)?.sections;
    if (
      !Array.isArray(sections) ||
      sections.length === 0 ||
      !sections.every(
        (s: { name?: unknown; offset?: unknown; length?: unknown; crc32?: unknown }) =>
          typeof s?.name === 'string' && isCount(s.offset) && isCount(s.length) && isCount(s.crc32),
      )
    )
      throw new CheckpointBytesError('checkpoint: the header does not list sections');
    const list = sections as Array<{ name: string; offset: number; length: number; crc32: number }>;
    if (list[0]?.name !== 'weights')
      throw new CheckpointBytesError('checkpoint: the first section is not the weights');
    const dataStart = align(end, 8);
    const size = list.reduce((n, s) => Math.max(n, s.offset + s.length), 0);
    if (bytes.length !== dataStart + size)
      throw new CheckpointBytesError(
        `checkpoint: ${bytes.length} bytes, its header describes ${dataStart + size}`,
      );
    for (const s of list) {
      const payload = bytes.subarray(dataStart + s.offset, dataStart + s.offset + s.length);
      if (crc32(payload) !== s.crc32)
        throw new CheckpointBytesError(`checkpoint: section ${s.name} fails its checksum`);
    }
    const first = list[0];
    weights = bytes.subarray(dataStart + first.offset, dataStart + first.offset + first.length);
  } else throw new CheckpointBytesError('these bytes are not a Chorus checkpoint (bad magic number)');
  const values = weightValues(weights);
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
