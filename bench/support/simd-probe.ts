/**
 * How fast this CPU multiplies matrices on the wasm backend (the kernels training spends most of
 * its time in): 96 × 96 float32 products, small enough to stay in cache, for about `seconds`.
 * Prints one JSON line `{ "gflops": … }`. The cluster bench runs it pinned to each CPU with
 * `taskset`, because the CPUs of a virtual machine need not be equally fast: a host core shared
 * with a busy neighbour runs SIMD code slower, while scalar code hardly notices.
 *
 *   tsx bench/support/simd-probe.ts [seconds]
 */
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@chorus/models';

const seconds = Number(process.argv[2] ?? 1.5);
await selectBackend('wasm');
const n = 96;
const a = tf.randomNormal([n, n]);
const b = tf.randomNormal([n, n]);
const product = () => tf.tidy(() => tf.matMul(a, b)).dispose();
for (let i = 0; i < 200; i++) product(); // warm-up
let count = 0;
const started = performance.now();
while (performance.now() - started < seconds * 1000) {
  for (let i = 0; i < 100; i++) product();
  count += 100;
}
const elapsed = (performance.now() - started) / 1000;
console.log(JSON.stringify({ gflops: (2 * n * n * n * count) / elapsed / 1e9 }));
