import { createHash } from 'node:crypto';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus';
import { DatasetError } from './errors';

/** A seeded, mutable random stream. */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, maxExclusive). */
  nextInt(maxExclusive: number): number;
  /** In-place Fisher–Yates shuffle. */
  shuffle<T>(a: T[] | Int32Array): void;
}

/**
 * A xoroshiro128+ stream (pure-rand) whose 128-bit state is the sha256 of the seed tuple, so
 * derived streams such as `createRng(seed, member, epoch)` are independent of each other and of
 * `createRng(seed)`: tuples of different lengths or values never share a state.
 */
export function createRng(...seed: number[]): Rng {
  if (seed.length === 0) throw new DatasetError('invalid', 'createRng needs at least one seed value');
  const words = new Float64Array(seed.length);
  seed.forEach((s, i) => {
    if (!Number.isFinite(s))
      throw new DatasetError('invalid', `seed component ${i} must be a finite number, got ${s}`);
    words[i] = s === 0 ? 0 : s; // -0 and 0 are the same seed
  });
  const digest = createHash('sha256').update('chorus-rng-v1').update(new Uint8Array(words.buffer)).digest();
  const state = [digest.readInt32LE(0), digest.readInt32LE(4), digest.readInt32LE(8), digest.readInt32LE(12)];
  if (!state.some((w) => w !== 0)) state[0] = 1; // the all-zero state is xoroshiro's fixed point
  const gen = xoroshiro128plusFromState(state);

  const nextInt = (maxExclusive: number): number => {
    if (!Number.isSafeInteger(maxExclusive) || maxExclusive < 1) {
      throw new DatasetError('invalid', `nextInt needs a positive integer bound, got ${maxExclusive}`);
    }
    return uniformInt(gen, 0, maxExclusive - 1);
  };

  return {
    next: () => uniformFloat64(gen),
    nextInt,
    shuffle<T>(a: T[] | Int32Array): void {
      // Both are index-writable; the union just doesn't type-check as such.
      const arr = a as unknown as T[];
      for (let i = arr.length - 1; i > 0; i--) {
        const j = uniformInt(gen, 0, i);
        const t = arr[i] as T;
        arr[i] = arr[j] as T;
        arr[j] = t;
      }
    },
  };
}

/** [0, 1, …, n-1] shuffled by `rng`. */
export function permutation(n: number, rng: Rng): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  rng.shuffle(p);
  return p;
}

