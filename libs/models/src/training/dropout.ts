/**
 * Seeded dropout that changes every step. tfjs' Dropout layer draws its mask from its `seed`
 * argument, so a fixed seed would give the same mask on every step (a fixed thinned network, not
 * dropout). The training loop therefore derives each step's seed from (layer seed, step).
 */
import type * as tfl from '@tensorflow/tfjs-layers';
import { deriveSeed } from '../seeds';

/** The layer's configured seed (set by Chorus' builders), or one derived from its name. */
export function baseDropoutSeed(layer: tfl.layers.Layer): number {
  const seed = (layer.getConfig() as { seed?: unknown }).seed;
  return typeof seed === 'number' ? seed : deriveSeed(0, layer.name);
}

/** The seed of `layer`'s mask at training step `step`. */
export function stepSeed(baseSeed: number, step: number): number {
  return deriveSeed(baseSeed, step);
}

/**
 * Fills `out` with a dropout multiplier: 0 with probability `rate`, else 1/(1−rate) (tfjs'
 * `tf.dropout` semantics), from a mulberry32 stream seeded with `seed`.
 */
export function fillDropoutMask(out: Float32Array, rate: number, seed: number): Float32Array {
  const keep = 1 / (1 - rate);
  const threshold = Math.min(0xffffffff, Math.floor(rate * 4294967296));
  let a = seed >>> 0;
  for (let i = 0; i < out.length; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (t ^ (t >>> 14)) >>> 0 >= threshold ? keep : 0;
  }
  return out;
}

type SeededLayer = { seed?: number };

/**
 * Runs `fn` with every Dropout layer of `layers` seeded for step `step`, then restores the seeds
 * (so the model's config still shows its own). tfjs declares `seed` private; it is a plain field.
 */
export function withStepSeeds<T>(
  layers: readonly tfl.layers.Layer[],
  baseSeeds: Map<tfl.layers.Layer, number>,
  step: number,
  fn: () => T,
): T {
  const saved: [SeededLayer, number | undefined][] = [];
  for (const layer of layers) {
    const base = baseSeeds.get(layer);
    if (base === undefined) continue;
    const l = layer as unknown as SeededLayer;
    saved.push([l, l.seed]);
    l.seed = stepSeed(base, step);
  }
  try {
    return fn();
  } finally {
    for (const [l, seed] of saved) l.seed = seed;
  }
}
