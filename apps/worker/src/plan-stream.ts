import { ChorusError, PlanChunkSchema, type PlanChunk } from '@chorus/protocol';

/**
 * A member's mini-batch indices, pulled from the coordinator in chunks (`plan:next`) as training
 * consumes them. The next chunk is requested while half of the current one is still buffered, so
 * a fast device never waits for the network and a slow one never holds more than ~two chunks.
 */

export interface PlanStreamOptions {
  /** Asks for batches offset…offset+count-1 (the coordinator may return fewer at the end). */
  fetchChunk: (offset: number, count: number) => Promise<PlanChunk>;
  /** The first batch to yield: 0 for a fresh member, the checkpoint's plan offset on resume. */
  offset: number;
  /** The member's total number of batches (the stream ends there). */
  total: number;
  /** Batches per request (1…4096, default 64). */
  chunkSize?: number;
}

export class PlanStream {
  private readonly chunkSize: number;
  private readonly total: number;
  private buffer: Int32Array[] = [];
  /** Offset of the next batch `take` yields. */
  private next: number;
  /** Offset of the next batch to request. */
  private requested: number;
  private inflight: Promise<void> | null = null;
  private failure: unknown = null;

  constructor(private readonly options: PlanStreamOptions) {
    const { offset, total } = options;
    if (!Number.isInteger(offset) || !Number.isInteger(total) || offset < 0 || offset > total) {
      throw new ChorusError(
        'invalid-input',
        `plan offset ${offset} is outside the member's plan (0…${total})`,
      );
    }
    this.chunkSize = Math.min(4096, Math.max(1, Math.floor(options.chunkSize ?? 64)));
    this.total = total;
    this.next = offset;
    this.requested = offset;
  }

  /** The next batch `take` will yield: after training what it yielded, the plan offset to checkpoint. */
  get offset(): number {
    return this.next;
  }

  /** Batches buffered or requested but not yet yielded. */
  get ahead(): number {
    return this.requested - this.next;
  }

  /** Yields the next `count` batches (fewer never: the plan ending early is an error). */
  async *take(count: number): AsyncGenerator<Int32Array> {
    if (this.next + count > this.total) {
      throw new ChorusError(
        'invalid-input',
        `cannot take ${count} batches at offset ${this.next}: the plan has ${this.total}`,
      );
    }
    for (let i = 0; i < count; i++) {
      while (this.buffer.length === 0) {
        this.prefetch();
        await this.inflight;
        this.throwIfFailed();
      }
      const batch = this.buffer.shift() as Int32Array;
      this.next++;
      if (this.buffer.length <= this.chunkSize / 2) this.prefetch();
      yield batch;
    }
  }

  /** Requests the next chunk unless one is in flight or the plan is fully requested. */
  private prefetch(): void {
    if (this.inflight !== null || this.failure !== null || this.requested >= this.total) return;
    const offset = this.requested;
    const count = Math.min(this.chunkSize, this.total - offset);
    this.inflight = this.options
      .fetchChunk(offset, count)
      .then((chunk) => {
        const batches = unpackChunk(chunk, offset, count);
        this.buffer.push(...batches);
        this.requested = offset + batches.length;
      })
      .catch((error: unknown) => {
        this.failure = error;
      })
      .finally(() => {
        this.inflight = null;
      });
  }

  private throwIfFailed(): void {
    if (this.failure !== null) throw this.failure;
    if (this.buffer.length === 0 && this.requested >= this.total) {
      throw new ChorusError('internal', `the plan ended at batch ${this.requested} of ${this.total}`);
    }
  }
}

/** Splits a chunk into its batches, checking it answers the request that was made. */
export function unpackChunk(raw: PlanChunk, offset: number, requested: number): Int32Array[] {
  const parsed = PlanChunkSchema.safeParse(raw);
  if (!parsed.success) throw new ChorusError('internal', `malformed plan chunk: ${parsed.error.message}`);
  const chunk = parsed.data;
  if (chunk.offset !== offset) {
    throw new ChorusError(
      'internal',
      `asked for plan batches from ${offset}, got a chunk from ${chunk.offset}`,
    );
  }
  if (chunk.sizes.length === 0 || chunk.sizes.length > requested) {
    throw new ChorusError(
      'internal',
      `asked for ${requested} plan batches from ${offset}, got ${chunk.sizes.length}`,
    );
  }
  const values = chunk.sizes.reduce((a, b) => a + b, 0);
  if (chunk.indices.byteLength !== values * 4) {
    throw new ChorusError(
      'internal',
      `plan chunk at ${offset}: sizes add up to ${values} indices but it carries ${chunk.indices.byteLength} bytes`,
    );
  }
  // Copy into an aligned buffer: a received Buffer may start at any byte offset.
  const all = new Int32Array(values);
  new Uint8Array(all.buffer).set(chunk.indices);
  const out: Int32Array[] = [];
  let at = 0;
  for (const size of chunk.sizes) {
    out.push(all.subarray(at, at + size));
    at += size;
  }
  return out;
}
