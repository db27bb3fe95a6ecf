/**
 * Seed derivation: every random choice in a model (each layer's initializer, each dropout mask of
 * each step) gets its own 32-bit seed derived from the member's seed and a label, so members built
 * side by side never share streams and a layer's stream does not shift when another layer changes.
 */
import { fmix32 } from '@chorus/protocol';

/** A 32-bit seed derived from `seed` and the labels (layer names, step numbers, …). */
export function deriveSeed(seed: number, ...labels: (string | number)[]): number {
  // Fold the high bits of seeds beyond 2^32 in, so 1 and 2^32 + 1 differ.
  let h = fmix32((seed >>> 0) ^ fmix32(Math.floor(seed / 0x100000000) >>> 0) ^ 0x9e3779b9);
  for (const label of labels) {
    if (typeof label === 'number') {
      h = fmix32(h ^ fmix32((label >>> 0) + 0x632be5ab));
    } else {
      for (let i = 0; i < label.length; i++) h = fmix32(h ^ (label.charCodeAt(i) + 0x165667b1));
    }
    h = fmix32(h + 0x27d4eb2f);
  }
  return h;
}

/** mulberry32: a small, fast 32-bit PRNG; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
