/**
 * Reading a large CSV of one's own (README "Your own data"): rows/s and peak RSS of libs/data's
 * streaming loader on a generated file of 1,000,000 rows × 50 columns (49 numeric features and an
 * integer label 0–9), beside Python's `numpy.loadtxt` on the same file when python3-numpy is
 * installed (it is not installed for this). Each reader runs in its own process, so its peak RSS
 * is its own; the file is generated in a temporary directory and removed afterwards. Then the
 * images case (data-images.ts): a folder of generated PNGs (default 20,000) through the images loader.
 *
 *   npm run bench:data [-- --rows 200000] [-- --no-numpy] [-- --images 60000] [-- --only csv|images]
 *
 * Prints figures; asserts nothing.
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCsvDataset } from '@chorus/data';
import { benchImages, measureImages } from './data-images';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? (args[i + 1] ?? fallback) : fallback;
};
const COLUMNS = 50;

interface Figures {
  reader: string;
  rows: number;
  seconds: number;
  peakRssMiB: number;
}

/** Child mode: load the file with libs/data and print one JSON line. */
async function measureChorus(file: string): Promise<void> {
  const started = performance.now();
  const d = await loadCsvDataset({ path: file, normalize: 'standard', testFraction: 0.2 });
  const seconds = (performance.now() - started) / 1000;
  const figures: Figures = {
    reader: 'chorus loadCsvDataset (stream, split, standardise)',
    rows: d.train.count + d.test.count,
    seconds,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
  };
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

/** Writes `rows` rows of 49 values with 3 decimals and a label, in 10,000-row chunks. */
async function generate(file: string, rows: number): Promise<void> {
  const out = createWriteStream(file);
  const write = async (text: string) => {
    if (!out.write(text)) await once(out, 'drain');
  };
  await write(`${Array.from({ length: COLUMNS - 1 }, (_, j) => `f${j}`).join(',')},label\n`);
  let seed = 12345;
  const next = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  for (let r = 0; r < rows; r += 10_000) {
    const lines: string[] = [];
    for (let i = r; i < Math.min(rows, r + 10_000); i++) {
      const label = i % 10;
      const values = Array.from({ length: COLUMNS - 1 }, () => (label + 4 * next()).toFixed(3));
      lines.push(`${values.join(',')},${label}`);
    }
    await write(`${lines.join('\n')}\n`);
  }
  await new Promise<void>((resolve, reject) => out.end(() => resolve()).once('error', reject));
}

const NUMPY_SCRIPT = `
import json, resource, sys, time
import numpy as np
t = time.perf_counter()
a = np.loadtxt(sys.argv[1], delimiter=',', skiprows=1, dtype=np.float32)
s = time.perf_counter() - t
print(json.dumps({'reader': 'numpy.loadtxt (float32)', 'rows': int(a.shape[0]), 'seconds': s,
                  'peakRssMiB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
`;

async function main(): Promise<void> {
  if (args[0] === '--child') return measureChorus(args[1] as string);
  if (args[0] === '--child-images') return measureImages(args[1] as string);
  const only = arg('only', 'all');
  const self = fileURLToPath(import.meta.url);
  if (only !== 'images') await benchCsv(self);
  if (only !== 'csv')
    await benchImages(Number(arg('images', '20000')), (dir) => [
      '--import',
      'tsx',
      self,
      '--child-images',
      dir,
    ]);
}

async function benchCsv(self: string): Promise<void> {
  const rows = Number(arg('rows', '1000000'));
  const dir = await mkdtemp(join(tmpdir(), 'chorus-bench-data-'));
  try {
    const file = join(dir, 'large.csv');
    const t = performance.now();
    await generate(file, rows);
    const size = (await stat(file)).size;
    console.log(
      `generated ${rows.toLocaleString('en-US')} rows × ${COLUMNS} columns: ${(size / 2 ** 20).toFixed(0)} MiB ` +
        `in ${((performance.now() - t) / 1000).toFixed(1)} s (${file})`,
    );
    console.log(`float32 data alone: ${((rows * (COLUMNS - 1) * 4) / 2 ** 20).toFixed(0)} MiB`);
    const results: Figures[] = [];
    const chorus = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', file], {
      encoding: 'utf8',
    });
    if (chorus.status !== 0) throw new Error(`the chorus reader failed: ${chorus.stderr}`);
    results.push(JSON.parse(chorus.stdout.trim().split('\n').pop() ?? '') as Figures);
    const hasNumpy = spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;
    if (args.includes('--no-numpy')) {
      console.log('numpy.loadtxt: skipped (--no-numpy)');
    } else if (!hasNumpy) {
      console.log('numpy.loadtxt: python3-numpy is not installed; not compared');
    } else {
      const py = spawnSync('python3', ['-c', NUMPY_SCRIPT, file], { encoding: 'utf8' });
      if (py.status !== 0) throw new Error(`numpy.loadtxt failed: ${py.stderr}`);
      results.push(JSON.parse(py.stdout.trim()) as Figures);
    }
    for (const r of results) {
      console.log(
        `${r.reader.padEnd(52)} ${Math.round(r.rows / r.seconds)
          .toLocaleString('en-US')
          .padStart(10)} rows/s ` + `(${r.seconds.toFixed(1)} s), peak RSS ${r.peakRssMiB.toFixed(0)} MiB`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
