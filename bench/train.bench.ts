/**
 * Training throughput (samples/s, batch 64, Adam, random 28×28 inputs) of `mlp`, `sign-cnn` and `lenet5` on
 * every TensorFlow.js backend present, beside PyTorch on one CPU thread for the same models, batch
 * size and optimizer (bench/torch_train.py) when `python3 -c "import torch"` works — as a ratio
 * measured in the same run. Each backend is measured in its own process (tfjs has one engine).
 *
 *   npm run bench:train [-- --seconds 3] [-- --models mlp,sign-cnn,lenet5] [-- --backends wasm]
 *
 * Prints figures; asserts nothing. Samples per CPU-second are printed too (steadier on a busy machine).
 * The webgpu row takes whatever adapter there is, a software one included (Mesa llvmpipe on a machine
 * without a GPU: for the record, not a GPU figure); its device is printed under the table.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildModel, selectBackend, trainOnBatches, type BackendName } from '@chorus/models';
import { BACKENDS } from '@chorus/protocol';

const BATCH = 64;
const args = process.argv.slice(2);
const arg = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? (args[i + 1] ?? fallback) : fallback;
};
const seconds = Number(arg('seconds', '3'));
const models = arg('models', 'mlp,sign-cnn,lenet5').split(',') as ('mlp' | 'sign-cnn' | 'lenet5')[];
const CLASSES = { mlp: 10, 'sign-cnn': 24, lenet5: 10 } as const;

interface Measure {
  model: string;
  backend: string;
  samplesPerSecond: number;
  samplesPerCpuSecond: number;
}

/** Child mode: measure one backend, print one JSON line per model. */
async function measureBackend(backend: BackendName): Promise<void> {
  const selection = await selectBackend(backend, { allowSoftwareGpu: true });
  process.stdout.write(`${JSON.stringify({ backend, device: selection.device })}\n`);
  const count = 4096;
  const x = new Float32Array(count * 784);
  for (let i = 0; i < x.length; i++) x[i] = ((i * 2654435761) % 1000) / 1000;
  for (const name of models) {
    const numClasses = CLASSES[name];
    const y = Int32Array.from({ length: count }, (_, i) => i % numClasses);
    const model = buildModel({ name, inputShape: [28, 28, 1], numClasses, seed: 1 });
    const data = { x, y, inputShape: [28, 28, 1], numClasses };
    const batches = (steps: number) =>
      Array.from({ length: steps }, (_, s) =>
        Int32Array.from({ length: BATCH }, (_, i) => (s * BATCH + i) % count),
      );
    // Warm-up (kernel compilation, first allocations), then size the timed run to ~`seconds`
    // (a single step where one takes longer: the cpu backend needs minutes per convnet batch).
    // Warm up for about a second (JIT, kernel compilation, allocations): a few hundred steps of a
    // dense model, one step of a convnet on the cpu backend.
    let warmSteps = 0;
    let warmSeconds = 0;
    let chunk = 1;
    while (warmSeconds < 1 && warmSteps < 2000) {
      const w = await trainOnBatches({ model, data, batches: batches(chunk), metricsEvery: 1_000_000 });
      warmSteps += chunk;
      warmSeconds += w.seconds;
      chunk = Math.min(chunk * 2, 256);
    }
    const perStep = Math.max(warmSeconds / warmSteps, 1e-4);
    const steps = Math.max(1, Math.min(5000, Math.round(seconds / perStep)));
    const cpu0 = process.cpuUsage();
    const r = await trainOnBatches({ model, data, batches: batches(steps), metricsEvery: 1_000_000 });
    const cpu = process.cpuUsage(cpu0);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    model.dispose();
    const m: Measure = {
      model: name,
      backend,
      samplesPerSecond: r.samples / r.seconds,
      samplesPerCpuSecond: r.samples / cpuSeconds,
    };
    process.stdout.write(`${JSON.stringify(m)}\n`);
  }
}

function torchPython(): string | null {
  for (const py of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' });
    if (r.status === 0) return py;
  }
  return null;
}

async function main(): Promise<void> {
  const child = args.indexOf('--child');
  if (child >= 0) return measureBackend(args[child + 1] as BackendName);

  const self = fileURLToPath(import.meta.url);
  const results: Measure[] = [];
  const devices = new Map<string, string>();
  const backends = arg('backends', BACKENDS.join(',')).split(',') as BackendName[];
  for (const backend of backends) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', backend, ...args], {
      encoding: 'utf8',
      timeout: 30 * 60_000,
    });
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('{'));
    if (r.status !== 0 || lines.length === 0) {
      const why = (r.stderr.match(/(?:Error|error)[:\s][^\n]*/)?.[0] ?? `exit ${r.status}`).slice(0, 200);
      console.log(`${backend}: not measured (${why})`);
      continue;
    }
    for (const line of lines) {
      const parsed = JSON.parse(line) as Measure | { backend: string; device: string };
      if ('device' in parsed) devices.set(parsed.backend, parsed.device);
      else results.push(parsed);
    }
  }

  const torch: Record<string, { samplesPerSecond: number; samplesPerCpuSecond: number }> = {};
  const py = torchPython();
  const script = fileURLToPath(new URL('./torch_train.py', import.meta.url));
  if (py && existsSync(script)) {
    for (const name of models) {
      const samples = name === 'mlp' ? '65536' : '2048';
      const out = execFileSync(py, [script, name, samples, String(BATCH), 'relu', String(seconds)], {
        encoding: 'utf8',
      });
      torch[name] = JSON.parse(out.trim().split('\n').pop() as string) as (typeof torch)[string];
    }
  } else {
    console.log('PyTorch: not measured (python3 -c "import torch" fails; apt-get install python3-torch)');
  }

  // Per CPU-second figures leave out the time a shared or virtual machine gives to others (steal),
  // which moves the wall-clock ratio by ±50 % between runs there.
  const ratio = (a: number, b: number | undefined) => (b ? `${(a / b).toFixed(2)}×` : '-');
  console.log(
    `\ntraining throughput, batch ${BATCH}, Adam: samples/s of wall time (per CPU-second in brackets)`,
  );
  console.log('model     backend     samples/s           PyTorch 1 thread     ratio (per CPU-second)');
  for (const m of results) {
    const ref = torch[m.model];
    const ours = `${Math.round(m.samplesPerSecond)} (${Math.round(m.samplesPerCpuSecond)})`;
    const theirs = ref ? `${Math.round(ref.samplesPerSecond)} (${Math.round(ref.samplesPerCpuSecond)})` : '-';
    console.log(
      `${m.model.padEnd(9)} ${m.backend.padEnd(11)} ${ours.padEnd(19)} ${theirs.padEnd(20)} ` +
        `${ratio(m.samplesPerSecond, ref?.samplesPerSecond)} (${ratio(m.samplesPerCpuSecond, ref?.samplesPerCpuSecond)})`,
    );
  }
  for (const [backend, device] of devices) console.log(`${backend}: ${device}`);
}

await main();
