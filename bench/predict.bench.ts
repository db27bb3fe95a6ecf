/**
 * Inference of an exported ensemble, and `chorus serve` under load.
 *
 *   npm run bench:predict [-- --seconds 3] [-- --clients 32] [-- --load-seconds 10]
 *
 * 1. rows/s of predictWithEnsemble (preprocessing, every member, every strategy, the disagreement)
 *    for 5 × mlp and 5 × lenet5 on 28×28 inputs, wasm backend, batches of 256 rows, beside the
 *    members alone (predictProbabilities × 5) to show what voting costs.
 * 2. `chorus serve` (wasm) on the 5 × mlp export: `--clients` concurrent clients each sending
 *    one-row requests back to back for `--load-seconds`: requests/s, p50/p95 latency, and how many
 *    rows each model call held (the batching).
 * 3. The coordinator's predict thread (apps/coordinator predict-pool.ts): the longest the event loop
 *    waits while four max batches of 5 × lenet5 are predicted, in the thread and, for comparison,
 *    with the same predictWithEnsemble calls on the main thread.
 * PyTorch inference is printed beside it only where `python3 -c "import torch"` works.
 * Untrained members (the speed does not depend on the weights). Prints figures; asserts nothing.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { manifestDatasetOf } from '@chorus/data';
import { evaluateEnsemble, runResultOf } from '@chorus/ensemble';
import {
  buildModel,
  disposeModel,
  predictProbabilities,
  predictWithEnsemble,
  readEnsembleExport,
  selectBackend,
  writeEnsembleExport,
} from '@chorus/models';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pino from 'pino';
import { createPredictPool } from '@chorus/coordinator';
import { parseRunConfig, ServeHealthSchema } from '@chorus/protocol';
import { CLI_ENTRY, stopChild } from './support/processes';
import { loadLine, quantile } from './support/stats';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? (args[i + 1] ?? fallback) : fallback;
};
const seconds = Number(arg('seconds', '3'));
const clients = Number(arg('clients', '32'));
const loadSeconds = Number(arg('load-seconds', '10'));
const MEMBERS = 5;
const BATCH = 256;
const FEATURES = 784;

/** Raw MNIST-like rows (0–255). */
const rawRows = (count: number): Float32Array =>
  Float32Array.from({ length: count * FEATURES }, (_, i) => ((i * 2654435761) >>> 0) % 256);

/** A 5-member export of `model` in `dir` (figures from random labels: only the files matter here). */
async function writeExport(model: 'mlp' | 'lenet5', dir: string): Promise<void> {
  const config = parseRunConfig({ dataset: 'mnist', model, members: MEMBERS, seed: 3 });
  const models = Array.from({ length: MEMBERS }, (_, m) =>
    buildModel({ name: model, inputShape: [28, 28, 1], numClasses: 10, seed: 100 + m }),
  );
  const x = rawRows(200).map((v) => v / 255);
  const truth = Int32Array.from({ length: 200 }, (_, i) => i % 10);
  const probs = await Promise.all(models.map((m) => predictProbabilities(m, x, [28, 28, 1])));
  const evaluation = evaluateEnsemble({
    numClasses: 10,
    validation: { members: probs, truth },
    test: { members: probs, truth },
    seed: 3,
  });
  await writeEnsembleExport(dir, {
    runId: `bench-${model}`,
    config,
    dataset: manifestDatasetOf('mnist'),
    result: runResultOf(
      evaluation,
      models.map(() => 0),
    ),
    combiners: evaluation.combiners,
    models,
  });
  models.forEach(disposeModel);
}

/** Calls `step` (one batch of BATCH rows) for about `seconds`; rows/s. */
async function rowsPerSecond(step: () => Promise<unknown> | unknown): Promise<number> {
  for (let i = 0; i < 2; i++) await step(); // warm-up
  let rows = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    await step();
    rows += BATCH;
  }
  return rows / ((performance.now() - start) / 1000);
}

async function loadTest(dir: string): Promise<void> {
  const child = spawn(
    process.execPath,
    [CLI_ENTRY, 'serve', '--ensemble', dir, '--port', '0', '--backend', 'wasm'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let text = '';
    child.stderr.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const match = /serving on (http:\/\/\S+)/.exec(text);
      if (match) resolve(match[1] as string);
    });
    child.once('exit', (code) => reject(new Error(`chorus serve exited (${code}):\n${text}`)));
  });
  try {
    const body = JSON.stringify({ rows: [Array.from(rawRows(1))] });
    const latencies: number[] = [];
    let failures = 0;
    const end = performance.now() + loadSeconds * 1000;
    const client = async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        const response = await fetch(`${url}/predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        await response.arrayBuffer();
        if (response.ok) latencies.push(performance.now() - t0);
        else failures++;
      }
    };
    const start = performance.now();
    await Promise.all(Array.from({ length: clients }, client));
    const elapsed = (performance.now() - start) / 1000;
    const health = ServeHealthSchema.parse(await (await fetch(`${url}/health`)).json());
    console.log(
      `chorus serve, 5 × mlp, ${clients} clients × ${loadSeconds} s, 1 row per request: ` +
        `${(latencies.length / elapsed).toFixed(0)} requests/s, ` +
        `p50 ${quantile(latencies, 0.5).toFixed(1)} ms, p95 ${quantile(latencies, 0.95).toFixed(1)} ms, ` +
        `${failures} failed; ${(health.rows / Math.max(1, health.batches)).toFixed(1)} rows per model call`,
    );
  } finally {
    await stopChild(child);
  }
}

/** The event loop's longest wait (ms) while `work` runs, watched at 1 ms resolution. */
async function longestLoopDelay(work: () => Promise<unknown>): Promise<number> {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  await work();
  // Let the loop turn once more, so that a wait that ends with the work is sampled too.
  await new Promise((resolve) => setTimeout(resolve, 10));
  delay.disable();
  return delay.max / 1e6;
}

async function threadDelays(dir: string): Promise<void> {
  const body = {
    rows: Array.from({ length: BATCH }, (_, r) => Array.from(rawRows(1), (v) => (v + r) % 256)),
  };
  const pool = createPredictPool({ logger: pino({ level: 'silent' }) });
  const x = Float32Array.from(body.rows.flat());
  try {
    await pool.send({ kind: 'predict', dir, body }); // TF.js and the export load in the thread
    const started = performance.now();
    const inThread = await longestLoopDelay(() =>
      Promise.all([1, 2, 3, 4].map(() => pool.send({ kind: 'predict', dir, body }))),
    );
    const threadMs = performance.now() - started;
    const ensemble = await readEnsembleExport(dir);
    const onMain = await longestLoopDelay(async () => {
      for (let i = 0; i < 4; i++) {
        await predictWithEnsemble(ensemble, x, BATCH);
        await new Promise((resolve) => setImmediate(resolve)); // as between two requests
      }
    });
    ensemble.dispose();
    console.log(
      `coordinator predict, 4 × ${BATCH} rows of ${MEMBERS} × lenet5 (${threadMs.toFixed(0)} ms): ` +
        `longest event-loop wait ${inThread.toFixed(1)} ms in the predict thread, ` +
        `${onMain.toFixed(1)} ms on the main thread`,
    );
  } finally {
    await pool.close();
  }
}

async function main(): Promise<void> {
  const backend = await selectBackend('wasm');
  console.log(`backend ${backend.backend} (${backend.device}); load ${loadLine()}`);
  const root = await mkdtemp(join(tmpdir(), 'chorus-bench-predict-'));
  try {
    const x = rawRows(BATCH);
    for (const model of ['mlp', 'lenet5'] as const) {
      const dir = join(root, model);
      await writeExport(model, dir);
      const ensemble = await readEnsembleExport(dir);
      const whole = await rowsPerSecond(() => predictWithEnsemble(ensemble, x, BATCH));
      const scaled = x.map((v) => v / 255);
      const membersOnly = await rowsPerSecond(async () => {
        for (const m of ensemble.models) await predictProbabilities(m, scaled, [28, 28, 1]);
      });
      console.log(
        `${MEMBERS} × ${model}: ${whole.toFixed(0)} rows/s (predictWithEnsemble, batches of ${BATCH}); ` +
          `members alone ${membersOnly.toFixed(0)} rows/s`,
      );
      ensemble.dispose();
    }
    const torch = spawnSync('python3', ['-c', 'import torch'], { stdio: 'ignore' });
    console.log(
      torch.status === 0
        ? 'PyTorch: installed, but no inference script is written yet (bench/torch_train.py measures training)'
        : 'PyTorch: not measured (python3 -c "import torch" fails; python3-torch is not installed)',
    );
    await threadDelays(join(root, 'lenet5'));
    await loadTest(join(root, 'mlp'));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

await main();
