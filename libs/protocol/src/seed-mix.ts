/**
 * Murmur3's 32-bit finaliser: a bijective avalanche mix of a 32-bit integer, the one seed mixer of
 * Chorus (member seeds here, per-layer and per-step seeds in libs/models). Pure JS, so the
 * dashboard can import it too.
 */
export function fmix32(x: number): number {
  let h = x | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
