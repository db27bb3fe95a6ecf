import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-core's Node bundle registers no gradients; tfjs-layers' bundle registers them all.
import '@tensorflow/tfjs-layers';

let pathsSet = false;

/** Absolute directory (with trailing slash) holding tfjs-backend-wasm's .wasm binaries. */
export function wasmBinaryDir(): string {
  const require = createRequire(import.meta.url);
  // The package's main entry lives in dist/; the binaries sit next to it.
  return join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), '/');
}

/**
 * Points tfjs-backend-wasm at its binaries (once) and activates the wasm backend.
 * For tests and benchmarks; the worker's backend selection lives elsewhere in libs/models.
 */
export async function useWasmBackend(): Promise<void> {
  if (!pathsSet) {
    setWasmPaths(wasmBinaryDir());
    pathsSet = true;
  }
  const ok = await tf.setBackend('wasm');
  if (!ok) throw new Error('tfjs wasm backend failed to initialise');
  await tf.ready();
}
