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
  const probs = models.map((m) => predictProbabilities(m, x, [28, 28, 1]));
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
      const membersOnly = await rowsPerSecond(() =>
        ensemble.models.forEach((m) => predictProbabilities(m, scaled, [28, 28, 1])),
      );
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
    await loadTest(join(root, 'mlp'));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

await main();
