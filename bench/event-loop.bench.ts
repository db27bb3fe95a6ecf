/**
 * How long a real-size member blocks the worker's event loop (where heartbeats run), phase by
 * phase as a worker goes through them: building the model, allocating the optimizer's state, the
 * first training step and four more, a checkpoint with Adam's moments, and loading it back.
 * fashion-dnn at `--width` (default 2,900: 25.4 M parameters on 8×8 inputs), on `--backend`
 * (default wasm). Each phase prints its wall time, its CPU time and the longest block of the event
 * loop it caused (the longest stretch no timer, a heartbeat, could run).
 *
 *   npx tsx bench/event-loop.bench.ts [--width 2900] [--backend wasm]
 *
 * Prints figures; asserts nothing.
 */
import {
  buildModelYielding,
  disposeModel,
  loadCheckpoint,
  prepareTraining,
  saveCheckpoint,
  selectBackend,
  trainOnBatches,
  type BackendName,
} from '@chorus/models';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? (args[i + 1] ?? fallback) : fallback;
};
const width = Number(arg('width', '2900'));
const backend = arg('backend', 'wasm') as BackendName;

await selectBackend(backend);

/**
 * Times `work` while a 10 ms interval timer notes the longest gap between two of its ticks: the
 * longest stretch in which no timer (a heartbeat) could run. (monitorEventLoopDelay's histogram
 * under-reports a block that starts before its first sample, so the gap is measured directly.)
 */
async function phase<T>(name: string, work: () => Promise<T>): Promise<T> {
  let last = performance.now();
  let maxGap = 0;
  const ticker = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
  }, 10);
  const started = performance.now();
  const cpu = process.cpuUsage();
  const result = await work();
  // One more turn of the loop so a block at the very end is counted.
  await new Promise((resolve) => setTimeout(resolve, 20));
  clearInterval(ticker);
  const seconds = (performance.now() - started) / 1000;
  const { user, system } = process.cpuUsage(cpu);
  console.log(
    `${name.padEnd(28)} ${seconds.toFixed(2).padStart(6)} s (CPU ${((user + system) / 1e6).toFixed(2)} s)   ` +
      `longest event-loop block ${(maxGap / 1000).toFixed(2)} s`,
  );
  return result;
}

const inputShape = [8, 8];
const numClasses = 10;
const model = await phase('build', () =>
  buildModelYielding({ name: 'fashion-dnn', inputShape, numClasses, width, seed: 1 } as never),
);
const rows = 40;
const x = new Float32Array(rows * 64).map((_, i) => (i % 13) / 13);
const y = new Int32Array(rows).map((_, i) => i % numClasses);
const train = (steps: number) => () =>
  trainOnBatches({
    model,
    data: { x, y, inputShape, numClasses },
    batches: (async function* () {
      for (let i = 0; i < steps; i++) yield Int32Array.from({ length: 8 }, (_, j) => (i * 8 + j) % rows);
    })(),
  });
await phase('prepare training (optimizer)', () => prepareTraining(model));
await phase('first step (batch 8)', train(1));
await phase('4 more steps', train(4));
const checkpoint = await phase('checkpoint (with optimizer)', () =>
  saveCheckpoint(model, { optimizer: true }),
);
console.log(`checkpoint ${(checkpoint.byteLength / 1e6).toFixed(1)} MB`);
await phase('load checkpoint', () => loadCheckpoint(model, checkpoint));
disposeModel(model);
