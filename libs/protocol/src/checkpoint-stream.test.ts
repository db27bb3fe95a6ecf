import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CheckpointBytesError,
  crc32,
  crc32Continue,
  encodeCheckpointBytes,
  verifyCheckpointBytes,
} from './checkpoint-bytes';
import { checkpointMaxBytes, createCheckpointVerifier } from './checkpoint-stream';

/** The bytes fed in pieces cut at `cuts` (sorted, deduplicated offsets). */
function verifyInPieces(bytes: Uint8Array, cuts: number[], expected?: number): number {
  const verifier = createCheckpointVerifier(expected);
  const points = [...new Set([0, ...cuts.filter((c) => c > 0 && c < bytes.length), bytes.length])].sort(
    (a, b) => a - b,
  );
  for (let i = 1; i < points.length; i++) verifier.update(bytes.subarray(points[i - 1], points[i]));
  return verifier.finish();
}

/** What a verifier says: the count, or the error's message. */
function outcome(run: () => number): number | string {
  try {
    return run();
  } catch (error) {
    if (!(error instanceof CheckpointBytesError)) throw error;
    return 'refused';
  }
}

const shapes = [[3, 5], [5], [5, 2], [2]]; // 15 + 5 + 10 + 2 = 32 parameters
const good = encodeCheckpointBytes(shapes, (i) => i / 7);

describe('crc32', () => {
  it('is zlib’s CRC-32, natively and by table, whole or in pieces', () => {
    // The check value of CRC-32/ISO-HDLC: crc32("123456789") = 0xcbf43926.
    const check = new TextEncoder().encode('123456789');
    expect(crc32(check)).toBe(0xcbf43926);
    expect(crc32Continue(0, check, false)).toBe(0xcbf43926);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(300), (bytes, cut) => {
        const at = Math.min(cut, bytes.length);
        const table = crc32Continue(
          crc32Continue(0, bytes.subarray(0, at), false),
          bytes.subarray(at),
          false,
        );
        expect(crc32Continue(crc32Continue(0, bytes.subarray(0, at)), bytes.subarray(at))).toBe(table);
        expect(crc32(bytes)).toBe(table);
      }),
    );
  });
});

describe('createCheckpointVerifier', () => {
  it('accepts a good checkpoint however it is cut, and counts its parameters', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(good.length), { maxLength: 40 }), (cuts) => {
        expect(verifyInPieces(good, cuts, 32)).toBe(32);
      }),
    );
  });

  it('agrees with verifyCheckpointBytes on damaged bytes: a flipped byte, cut or padded ones', () => {
    fc.assert(
      fc.property(
        fc.nat(good.length - 1),
        fc.integer({ min: 1, max: 255 }),
        fc.integer({ min: -40, max: 8 }),
        fc.array(fc.nat(good.length + 8), { maxLength: 10 }),
        (at, xor, lengthChange, cuts) => {
          const damaged = new Uint8Array(Math.max(0, good.length + lengthChange));
          damaged.set(good.subarray(0, damaged.length));
          if (at < damaged.length) damaged[at] = (damaged[at] as number) ^ xor;
          const whole = outcome(() => verifyCheckpointBytes(damaged, 32));
          expect(outcome(() => verifyInPieces(damaged, cuts, 32))).toBe(whole);
        },
      ),
    );
  });

  it('refuses the weights of another member, and says how many it holds', () => {
    expect(() => verifyInPieces(good, [100], 33)).toThrow(
      'the weights hold 32 parameters, this member has 33',
    );
  });

  it('refuses a cut upload at finish, and bytes past the header’s length at once', () => {
    expect(() => verifyInPieces(good.subarray(0, good.length - 4), [])).toThrow(/truncated/);
    const verifier = createCheckpointVerifier();
    verifier.update(good);
    expect(() => verifier.update(new Uint8Array(1))).toThrow(/more than the \d+ bytes/);
  });

  it('bounds a checkpoint by its parameters: weights and two Adam moments, plus 8 MiB of headers', () => {
    // 27.2 M parameters (fashion-dnn, width 2,880): 3 × 4 × 27.2e6 bytes + 8 MiB.
    expect(checkpointMaxBytes(27_200_000)).toBe(326_400_000 + 8 * 1024 * 1024);
  });
});
