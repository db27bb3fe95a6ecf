import { createRng, type Rng } from './rng';
import type { Split } from './types';

export const SYNTHETIC_SIDE = 8;
export const SYNTHETIC_CLASSES = 4;
export const SYNTHETIC_TRAIN = 2000;
export const SYNTHETIC_TEST = 500;

/**
 * Blob centres of the four classes, (row, col) on the 8×8 grid: close enough that jitter and
 * noise make the classes overlap, so a model learns them well above chance but not perfectly.
 */
const CENTRES: readonly (readonly [number, number])[] = [
  [2.6, 2.6],
  [2.6, 4.4],
  [4.4, 2.6],
  [4.4, 4.4],
];
const JITTER = 0.6; // std of the blob centre around its class centre, pixels
const NOISE = 0.25; // std of per-pixel Gaussian noise

/**
 * Generates the synthetic dataset: an 8×8 Gaussian blob per sample whose centre depends on the
 * class, with random position, width and brightness, plus pixel noise; clipped to [0, 1].
 * Train and test come from independent streams of `seed`; classes are balanced.
 */
export function generateSynthetic(seed: number): { train: Split; test: Split } {
  return {
    train: generateSplit(createRng(seed, 0x5e1, 0), SYNTHETIC_TRAIN),
    test: generateSplit(createRng(seed, 0x5e1, 1), SYNTHETIC_TEST),
  };
}

function generateSplit(rng: Rng, count: number): Split {
  const f = SYNTHETIC_SIDE * SYNTHETIC_SIDE;
  const x = new Float32Array(count * f);
  const y = new Int32Array(count);
  for (let i = 0; i < count; i++) y[i] = i % SYNTHETIC_CLASSES;
  rng.shuffle(y);
  const gauss = gaussian(rng);
  for (let i = 0; i < count; i++) {
    const [cr, cc] = CENTRES[y[i] ?? 0] ?? [0, 0];
    const r0 = cr + JITTER * gauss();
    const c0 = cc + JITTER * gauss();
    const sigma = 1.0 + 0.6 * rng.next();
    const amp = 0.6 + 0.4 * rng.next();
    for (let r = 0; r < SYNTHETIC_SIDE; r++) {
      for (let c = 0; c < SYNTHETIC_SIDE; c++) {
        const d2 = (r - r0) ** 2 + (c - c0) ** 2;
        const v = amp * Math.exp(-d2 / (2 * sigma * sigma)) + NOISE * gauss();
        x[i * f + r * SYNTHETIC_SIDE + c] = Math.min(1, Math.max(0, v));
      }
    }
  }
  return { x, y, count };
}

/** Standard normal deviates by Box–Muller. */
function gaussian(rng: Rng): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    const u = 1 - rng.next(); // (0, 1]
    const v = rng.next();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

/**
 * Valid softmax rows (seeded random logits): rows × numClasses float32 summing to 1 per row — what a
 * member sends for a split, for tests and load benches that play a worker without training.
 */
export function softmaxRows(rows: number, numClasses: number, seed: number): Float32Array<ArrayBuffer> {
  const rng = createRng(seed, 0x50f7);
  const out = new Float32Array(rows * numClasses);
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let c = 0; c < numClasses; c++) {
      const v = Math.exp(3 * rng.next());
      out[r * numClasses + c] = v;
      sum += v;
    }
    for (let c = 0; c < numClasses; c++) out[r * numClasses + c] = (out[r * numClasses + c] as number) / sum;
  }
  return out;
}
