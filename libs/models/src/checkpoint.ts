/**
 * Checkpoint container: everything a member needs to continue training bit-identically — the model
 * weights (the `saveWeights` bytes), the training step (dropout masks are derived from
 * (layer seed, step), so it is the dropout streams' position) and the optimizer's state (Adam: t,
 * m, v). Layout (little-endian):
 *   "CHCK" · u32 version (1) · u32 header length · header JSON (UTF-8) · zero padding to 8 bytes ·
 *   the sections, at the offsets the header gives (relative to the end of the padding).
 * Header: { step, optimizer: { name, iterations, scalars } | null, sections: [{ name, offset,
 * length, crc32, variable?, slot? }] }, with one section 'weights' and one per optimizer slot
 * ('optimizer/<variable>/<slot>', float32 values). Each section carries its CRC-32, so flipped
 * bytes are refused as well as truncated ones. Bytes that start with "CHWT" are a checkpoint of the
 * older, weights-only format.
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import {
  CHECKPOINT_VERSION,
  CheckpointBytesError,
  crc32,
  crc32Continue,
  splitCheckpointBytes,
  type CheckpointSection as Section,
} from '@chorus/protocol';
import { ModelError } from './errors';
import { prepareTrainingState, saveTrainingState } from './training/trainer-state';
import type { OptimizerState, TrainingState } from './training/trainer-state';
import { loadWeights, saveWeights } from './weights';
import { yieldToEventLoop } from './yield';

export type { OptimizerState, TrainingState } from './training/trainer-state';
/** CRC-32 (IEEE, as zlib): the one libs/protocol's tfjs-free checkpoint verifier uses. */
export { crc32 } from '@chorus/protocol';

/** The container's layout is read in one place, libs/protocol's splitCheckpointBytes. */
export { CHECKPOINT_VERSION } from '@chorus/protocol';
const MAGIC = 'CHCK';

export interface CheckpointParts {
  /** `saveWeights` bytes. */
  weights: Uint8Array;
  /** null for a weights-only checkpoint of the older format. */
  training: TrainingState | null;
}

export interface DecodedCheckpoint extends CheckpointParts {
  /** 'container': this format; 'weights-only': plain `saveWeights` bytes (no optimizer state). */
  format: 'container' | 'weights-only';
}

interface Header {
  step: number;
  optimizer: Omit<OptimizerState, 'slots'> | null;
  sections: Section[];
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function float32Bytes(values: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  const out = new Uint8Array(values.byteLength);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setFloat32(4 * i, v, true));
  return out;
}

function float32Values(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.length / 4);
  if (LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(bytes);
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(4 * i, true);
  return out;
}

const align = (n: number, to: number): number => Math.ceil(n / to) * to;

/** The payloads of `parts` and their sections, laid out (CRC-32s still 0), and their total size. */
function layoutOf(parts: CheckpointParts): { payloads: Uint8Array[]; sections: Section[]; size: number } {
  const training = parts.training ?? { step: 0, optimizer: null };
  const payloads: Uint8Array[] = [parts.weights];
  const sections: Section[] = [{ name: 'weights', offset: 0, length: 0, crc32: 0 }];
  for (const { variable, slot, values } of training.optimizer?.slots ?? []) {
    payloads.push(float32Bytes(values));
    sections.push({ name: `optimizer/${variable}/${slot}`, variable, slot, offset: 0, length: 0, crc32: 0 });
  }
  let offset = 0;
  payloads.forEach((p, i) => {
    offset = align(offset, 8);
    Object.assign(sections[i] as Section, { offset, length: p.length });
    offset += p.length;
  });
  return { payloads, sections, size: offset };
}

/** The container's bytes with the header written and the sections' room left (zeros), and its data start. */
function containerOf(
  parts: CheckpointParts,
  sections: Section[],
  size: number,
): { bytes: Uint8Array; dataStart: number } {
  const training = parts.training ?? { step: 0, optimizer: null };
  const optimizer = training.optimizer;
  const header: Header = {
    step: training.step,
    optimizer:
      optimizer === null
        ? null
        : { name: optimizer.name, iterations: optimizer.iterations, scalars: optimizer.scalars },
    sections,
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const dataStart = align(12 + json.length, 8);
  const bytes = new Uint8Array(dataStart + size);
  bytes.set(new TextEncoder().encode(MAGIC), 0);
  const view = new DataView(bytes.buffer);
  view.setUint32(4, CHECKPOINT_VERSION, true);
  view.setUint32(8, json.length, true);
  bytes.set(json, 12);
  return { bytes, dataStart };
}

/** The container of `parts` (a weights-only checkpoint when `parts.training` is null). */
export function encodeCheckpoint(parts: CheckpointParts): Uint8Array {
  const { payloads, sections, size } = layoutOf(parts);
  payloads.forEach((p, i) => ((sections[i] as Section).crc32 = crc32(p)));
  const { bytes, dataStart } = containerOf(parts, sections, size);
  payloads.forEach((p, i) => bytes.set(p, dataStart + (sections[i] as Section).offset));
  return bytes;
}

/** Bytes per piece of `encodeCheckpointYielding`'s checksums and copies (a few ms each). */
const PIECE_BYTES = 8 << 20;

/**
 * `encodeCheckpoint`, the same bytes, with the checksums and copies done PIECE_BYTES at a time and
 * a turn of the event loop after each piece: a 25 M-parameter member's 305 MB container never
 * holds the thread for more than a few milliseconds at once.
 */
export async function encodeCheckpointYielding(parts: CheckpointParts): Promise<Uint8Array> {
  const { payloads, sections, size } = layoutOf(parts);
  for (const [i, p] of payloads.entries()) {
    let crc = 0;
    for (let at = 0; at < p.length; at += PIECE_BYTES) {
      crc = crc32Continue(crc, p.subarray(at, at + PIECE_BYTES));
      await yieldToEventLoop();
    }
    (sections[i] as Section).crc32 = crc;
  }
  const { bytes, dataStart } = containerOf(parts, sections, size);
  for (const [i, p] of payloads.entries()) {
    const start = dataStart + (sections[i] as Section).offset;
    for (let at = 0; at < p.length; at += PIECE_BYTES) {
      bytes.set(p.subarray(at, at + PIECE_BYTES), start + at);
      await yieldToEventLoop();
    }
  }
  return bytes;
}

function corrupt(message: string): ModelError {
  return new ModelError('weights-mismatch', `corrupt checkpoint: ${message}`);
}

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

function checkHeader(header: unknown): Header {
  const h = header as Partial<Header> | null;
  if (h === null || typeof h !== 'object') throw corrupt('the header is not an object');
  if (!isCount(h.step)) throw corrupt('the header has no step count');
  const o = h.optimizer;
  if (
    o !== null &&
    !(
      typeof o === 'object' &&
      o !== undefined &&
      typeof o.name === 'string' &&
      isCount(o.iterations) &&
      typeof o.scalars === 'object' &&
      o.scalars !== null &&
      Object.values(o.scalars).every((v) => typeof v === 'number')
    )
  ) {
    throw corrupt('the header does not describe the optimizer as { name, iterations, scalars }');
  }
  // splitCheckpointBytes checked the sections' ranges and checksums; the slots' meaning is ours.
  const sections = h.sections as Section[];
  for (const s of sections.slice(1)) {
    if (typeof s.variable !== 'string' || typeof s.slot !== 'string' || s.length % 4 !== 0) {
      throw corrupt(`section ${s.name} is not an optimizer slot of float32 values`);
    }
  }
  if (o === null && sections.length > 1) throw corrupt('optimizer slots without an optimizer');
  return h as Header;
}

/**
 * Splits checkpoint bytes into their parts, checking length and checksums. Plain `saveWeights`
 * bytes (the older format) come back as `format: 'weights-only'` with `training: null`.
 */
export function decodeCheckpoint(bytes: Uint8Array): DecodedCheckpoint {
  let parts;
  try {
    parts = splitCheckpointBytes(bytes);
  } catch (error) {
    if (!(error instanceof CheckpointBytesError)) throw error;
    throw new ModelError('weights-mismatch', `corrupt checkpoint: ${error.message}`, { cause: error });
  }
  if (parts.format === 'weights-only')
    return { format: 'weights-only', weights: parts.weights, training: null };
  const header = checkHeader(parts.header);
  const optimizer =
    header.optimizer === null
      ? null
      : {
          ...header.optimizer,
          slots: parts.slots.map(({ section, bytes: values }) => ({
            variable: section.variable as string,
            slot: section.slot as string,
            values: float32Values(values),
          })),
        };
  return { format: 'container', weights: parts.weights, training: { step: header.step, optimizer } };
}

/**
 * The model's checkpoint: its weights, step count and optimizer state in one container, read and
 * encoded in pieces with turns of the event loop in between (yield.ts). With
 * `optimizer: false` the optimizer state is left out (a member's final checkpoint: nothing trains
 * from it again, and Adam's moments would triple its size).
 */
export async function saveCheckpoint(
  model: tfl.LayersModel,
  options: { optimizer?: boolean } = {},
): Promise<Uint8Array> {
  const weights = await saveWeights(model);
  const training = await saveTrainingState(model);
  return encodeCheckpointYielding({
    weights,
    training: options.optimizer === false ? { step: training.step, optimizer: null } : training,
  });
}

export interface LoadCheckpointOptions {
  /**
   * The step count to continue from when `bytes` hold no training state (a weights-only checkpoint),
   * so dropout masks still continue where they were. Default 0.
   */
  fallbackStep?: number;
}

export interface LoadedCheckpoint {
  format: DecodedCheckpoint['format'];
  /** The step count the model continues from. */
  step: number;
  /** Whether the optimizer state was restored (false: it starts fresh, so training is not exact). */
  optimizerRestored: boolean;
}

/**
 * Loads a checkpoint (either format) into `model`, built from the same spec as the one saved:
 * weights, step count and optimizer state. Bytes that do not decode, or do not match the model,
 * are refused with a 'weights-mismatch' error before the weights or the training state change.
 */
export async function loadCheckpoint(
  model: tfl.LayersModel,
  bytes: Uint8Array,
  options: LoadCheckpointOptions = {},
): Promise<LoadedCheckpoint> {
  const decoded = decodeCheckpoint(bytes);
  const training = decoded.training ?? { step: options.fallbackStep ?? 0, optimizer: null };
  const commit = await prepareTrainingState(model, training);
  await loadWeights(model, decoded.weights);
  commit();
  return {
    format: decoded.format,
    step: training.step,
    optimizerRestored: training.optimizer !== null,
  };
}
