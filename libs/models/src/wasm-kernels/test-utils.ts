/** Helpers shared by the wasm-kernel tests (not part of the library API). */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from './backend-ops';

/** Deterministic uniform(−1, 1) values (mulberry32). */
export function randomValues(n: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

/** Runs `f` with `backend` active and returns its tensors' values (all tensors it made are disposed). */
export async function valuesOn(backend: string, f: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const r = f();
    return (Array.isArray(r) ? r : [r])
      .map((t) => t.dataSync() as Float32Array)
      .map((v) => Float32Array.from(v));
  });
}

/** Largest |a−b| / (|b| + floor) over the elements (floor guards near-zero reference values). */
export function maxRelError(a: Float32Array, b: Float32Array, floor = 1): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs((a[i] as number) - (b[i] as number)) / (Math.abs(b[i] as number) + floor);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

/** Counts of live engine tensors and of wasm heap buffers (kernel intermediates would show up only in the latter). */
export function liveCounts(): { tensors: number; buffers: number } {
  const backend = tf.backend() as unknown as BackendWasm;
  return { tensors: tf.memory().numTensors, buffers: backend.numDataIds() };
}
