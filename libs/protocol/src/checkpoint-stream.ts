/**
 * Checkpoint bytes checked as they stream in (the coordinator's `PUT /api/checkpoints/…`), so a
 * large checkpoint is verified without ever being whole in memory: the same checks as
 * `verifyCheckpointBytes` (checkpoint-bytes.ts) — magic number, version, header, total length, every
 * section's CRC-32, the weights' own header against their length and parameter count.
 */
import {
  CheckpointBytesError,
  CHECKPOINT_VERSION,
  crc32Continue,
  type CheckpointSection,
} from './checkpoint-bytes';

/**
 * Checkpoints up to this size travel in the socket `checkpoint` message (stored in the database);
 * larger ones are uploaded with `PUT /api/checkpoints/:memberId/:epoch` (stored as files). One rule,
 * applied by the worker; the coordinator accepts either path for any size within its limits.
 */
export const CHECKPOINT_SOCKET_MAX_BYTES = 16 * 1024 * 1024;

/** The most header bytes a container or its weights may announce (a few hundred bytes per layer). */
const MAX_HEADER_BYTES = 4 * 1024 * 1024;
/** Bytes a checkpoint may take beyond its float32 values: the two JSON headers and their padding. */
export const CHECKPOINT_HEADER_SLACK_BYTES = 8 * 1024 * 1024;
/** Float32 values per parameter a checkpoint holds at most: the weights and Adam's two moments. */
const VALUES_PER_PARAM = 3;

/** The largest checkpoint a member of `params` parameters can have (weights + optimizer slots + headers). */
export function checkpointMaxBytes(params: number): number {
  return 4 * VALUES_PER_PARAM * params + CHECKPOINT_HEADER_SLACK_BYTES;
}

const align = (n: number, to: number): number => Math.ceil(n / to) * to;
const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

interface Tracked {
  section: CheckpointSection;
  /** Absolute byte range in the stream. */
  start: number;
  end: number;
  crc: number;
}

/** Bytes kept until a header can be read: at most 12 bytes + MAX_HEADER_BYTES. */
class HeadBuffer {
  private parts: Uint8Array[] = [];
  length = 0;
  push(bytes: Uint8Array): void {
    this.parts.push(bytes);
    this.length += bytes.length;
  }
  bytes(): Uint8Array {
    if (this.parts.length === 1) return this.parts[0] as Uint8Array;
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    this.parts = [out];
    return out;
  }
}

/** Reads a "CHCK"/"CHWT" header from its first bytes, or undefined while they are too few. */
function readHeader(head: Uint8Array, what: string): { json: unknown; end: number } | undefined {
  if (head.length < 12) return undefined;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const version = view.getUint32(4, true);
  if (version !== CHECKPOINT_VERSION)
    throw new CheckpointBytesError(`${what}format version ${version} is not supported`);
  const length = view.getUint32(8, true);
  if (length > MAX_HEADER_BYTES)
    throw new CheckpointBytesError(`${what}a header of ${length} bytes is beyond ${MAX_HEADER_BYTES}`);
  if (head.length < 12 + length) return undefined;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(12, 12 + length));
    return { json: JSON.parse(text) as unknown, end: 12 + length };
  } catch {
    throw new CheckpointBytesError(`${what}the header is not valid JSON`);
  }
}

/** The values the "CHWT" header lists, and the weights' length it implies. */
function weightsLayout(json: unknown, end: number): { values: number; length: number } {
  const list = (json as { weights?: unknown } | null)?.weights;
  if (!Array.isArray(list)) throw new CheckpointBytesError('weights: the header lists no weights');
  let values = 0;
  for (const w of list as Array<{ shape?: unknown; dtype?: unknown }>) {
    if (!Array.isArray(w?.shape) || !w.shape.every(isCount) || (w.dtype !== 'float32' && w.dtype !== 'int32'))
      throw new CheckpointBytesError('weights: an entry is not { name, shape, dtype }');
    values += (w.shape as number[]).reduce((a, b) => a * b, 1);
  }
  return { values, length: align(end, 4) + 4 * values };
}

export interface CheckpointVerifier {
  /** Feeds the next bytes; throws CheckpointBytesError as soon as they cannot be a good checkpoint. */
  update(chunk: Uint8Array): void;
  /** After the last bytes: the weights' parameter count, or CheckpointBytesError. */
  finish(): number;
}

/**
 * A verifier for checkpoint bytes that arrive in chunks. `expectedParams`: the member's parameter
 * count, checked against the weights' header. It keeps only the headers (bounded) and one running
 * CRC per section.
 */
export function createCheckpointVerifier(expectedParams?: number): CheckpointVerifier {
  let received = 0;
  const head = new HeadBuffer();
  // Set once the container's header is read.
  let total: number | undefined;
  let tracked: Tracked[] = [];
  // The weights: where they start and, once their header is read, how long they must be.
  let weightsStart: number | undefined;
  const weightsHead = new HeadBuffer();
  let weights: { values: number; length: number } | undefined;
  let weightsLength: number | undefined;
  let format: 'container' | 'weights-only' | undefined;

  const checkWeightsHeader = (): void => {
    if (weights !== undefined) return;
    const parsed = readHeader(weightsHead.bytes(), 'weights: ');
    if (parsed === undefined) return;
    weights = weightsLayout(parsed.json, parsed.end);
    if (expectedParams !== undefined && weights.values !== expectedParams)
      throw new CheckpointBytesError(
        `the weights hold ${weights.values} parameters, this member has ${expectedParams}`,
      );
    if (weightsLength !== undefined && weights.length !== weightsLength)
      throw new CheckpointBytesError(
        `weights: ${weightsLength} bytes, the header describes ${weights.length}`,
      );
    if (format === 'weights-only') total = weights.length;
  };

  const startContainer = (): void => {
    const parsed = readHeader(head.bytes(), 'checkpoint: ');
    if (parsed === undefined) return;
    const sections = (parsed.json as { sections?: unknown } | null)?.sections;
    if (
      parsed.json === null ||
      typeof parsed.json !== 'object' ||
      !Array.isArray(sections) ||
      !sections.every(
        (s: { name?: unknown; offset?: unknown; length?: unknown; crc32?: unknown }) =>
          typeof s?.name === 'string' && isCount(s.offset) && isCount(s.length) && isCount(s.crc32),
      )
    )
      throw new CheckpointBytesError(
        'checkpoint: the header does not list sections as { name, offset, length, crc32 }',
      );
    const list = sections as CheckpointSection[];
    if (list[0]?.name !== 'weights')
      throw new CheckpointBytesError('checkpoint: the first section is not the weights');
    const dataStart = align(parsed.end, 8);
    total = dataStart + list.reduce((n, s) => Math.max(n, s.offset + s.length), 0);
    tracked = list.map((section) => ({
      section,
      start: dataStart + section.offset,
      end: dataStart + section.offset + section.length,
      crc: 0,
    }));
    weightsStart = dataStart + list[0].offset;
    weightsLength = list[0].length;
    format = 'container';
  };

  const consume = (chunk: Uint8Array, at: number): void => {
    for (const t of tracked) {
      const from = Math.max(t.start, at);
      const to = Math.min(t.end, at + chunk.length);
      if (from < to) t.crc = crc32Continue(t.crc, chunk.subarray(from - at, to - at));
    }
    if (weightsStart !== undefined && weights === undefined) {
      const from = Math.max(weightsStart, at);
      const to = Math.min(weightsStart + 12 + MAX_HEADER_BYTES, at + chunk.length);
      if (from < to && from - weightsStart === weightsHead.length) {
        weightsHead.push(chunk.slice(from - at, to - at));
        checkWeightsHeader();
      }
    }
  };

  return {
    update(chunk) {
      const at = received;
      received += chunk.length;
      if (total !== undefined && received > total)
        throw new CheckpointBytesError(`checkpoint: more than the ${total} bytes its header describes`);
      if (format === undefined) {
        head.push(chunk.slice());
        if (head.length < 4) return;
        const magic = new TextDecoder().decode(head.bytes().subarray(0, 4));
        if (magic === 'CHWT') {
          format = 'weights-only';
          weightsStart = 0;
        } else if (magic === 'CHCK') {
          startContainer();
          if (format === undefined) return; // the header is still incomplete
        } else {
          throw new CheckpointBytesError('these bytes are not a Chorus checkpoint (bad magic number)');
        }
        // Everything received so far, now that the layout is known.
        const all = head.bytes();
        head.length = 0;
        consume(all, 0);
        if (total !== undefined && received > total)
          throw new CheckpointBytesError(`checkpoint: more than the ${total} bytes its header describes`);
        return;
      }
      consume(chunk, at);
    },
    finish() {
      if (format === undefined || weights === undefined || total === undefined)
        throw new CheckpointBytesError(`checkpoint: ${received} bytes are too few (truncated)`);
      if (received !== total)
        throw new CheckpointBytesError(
          `checkpoint: ${received} bytes, its header describes ${total} (truncated)`,
        );
      for (const t of tracked) {
        if (t.crc !== t.section.crc32)
          throw new CheckpointBytesError(`checkpoint: section ${t.section.name} fails its checksum`);
      }
      return weights.values;
    },
  };
}
