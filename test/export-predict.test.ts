import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDataset } from '@chorus/data';
import { RunResultSchema, type RunResult } from '@chorus/protocol';
import { tempDir } from './support/cluster';
import { within } from './support/eventually';
import { hardVote, loadPlainLayersModel, predictPlain, softVote } from './support/plain-tfjs';
import { ChorusProcess, killAll } from './support/processes';

/**
 * `chorus train --save` on digits (3 members, 2 epochs, cpu backend), then the export loaded with
 * plain TF.js (test/support/plain-tfjs.ts, no Chorus code) and with `chorus predict`: both give the
 * run's reported test figures.
 */

let dir: { path: string; remove: () => Promise<void> };
let exportDir: string;
let result: RunResult;
let testCsv: string;
let raw: Float32Array;
let truth: Int32Array;

async function chorus(
  args: string[],
  timeoutMs = 120_000,
): Promise<{ code: number | null; stdout: string[]; stderr: string }> {
  const proc = new ChorusProcess(`chorus ${args[0]}`, args, {});
  const exit = await within(proc.exited, timeoutMs, `chorus ${args.join(' ')} exits`);
  return { code: exit.code, stdout: proc.stdout, stderr: proc.stderr.join('\n') };
}

beforeAll(async () => {
  dir = await tempDir('chorus-e2e-export-');
  exportDir = join(dir.path, 'ensemble');
  const train = await chorus([
    'train',
    '--dataset',
    'digits',
    '--members',
    '3',
    '--epochs',
    '2',
    '--seed',
    '3',
    '--backend',
    'cpu',
    '--save',
    exportDir,
    '--json',
  ]);
  expect(train.code, train.stderr).toBe(0);
  result = RunResultSchema.parse(JSON.parse(train.stdout.at(-1) as string));
  // The test split as the dataset's file holds it: digits values 0–16, the label last.
  const digits = await loadDataset('digits');
  const f = 64;
  raw = Float32Array.from(digits.test.x, (v) => Math.round(v * 16));
  truth = digits.test.y;
  const lines = Array.from({ length: digits.test.count }, (_, i) =>
    [...raw.subarray(i * f, (i + 1) * f), truth[i]].join(','),
  );
  testCsv = join(dir.path, 'digits-test.csv');
  await writeFile(testCsv, `${lines.join('\n')}\n`);
  expect(raw.map((v) => v / 16)).toEqual(digits.test.x); // the CSV holds exactly the test split
}, 240_000);

afterAll(async () => {
  await killAll();
  await dir?.remove();
});

const accuracy = (classes: Int32Array) =>
  classes.reduce((n, c, i) => n + (c === truth[i] ? 1 : 0), 0) / truth.length;

describe('an ensemble exported by chorus train --save', () => {
  it('loads in plain TF.js and votes soft and hard to the run test accuracy', async () => {
    const manifest = JSON.parse(await readFile(join(exportDir, 'ensemble.json'), 'utf8')) as {
      dataset: { preprocess: { divisor: number }; numClasses: number };
      members: { path: string }[];
    };
    const x = raw.map((v) => v / manifest.dataset.preprocess.divisor);
    const count = truth.length;
    const probs: Float32Array[] = [];
    for (const member of manifest.members) {
      const model = await loadPlainLayersModel(join(exportDir, member.path, 'model.json'));
      probs.push(predictPlain(model, x, count));
      model.dispose();
    }
    expect(probs).toHaveLength(3);
    const classes = manifest.dataset.numClasses;
    expect(Math.abs(accuracy(softVote(probs, count, classes)) - result.ensemble.soft.accuracy)).toBeLessThan(
      1e-6,
    );
    expect(Math.abs(accuracy(hardVote(probs, count, classes)) - result.ensemble.hard.accuracy)).toBeLessThan(
      1e-6,
    );
  });

  it('chorus predict --evaluate --json gives the run test figures of every strategy', async () => {
    const run = await chorus([
      'predict',
      '--ensemble',
      exportDir,
      '--input',
      testCsv,
      '--evaluate',
      '--json',
      '--backend',
      'cpu',
      '--batch-size',
      '100',
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`predicted ${truth.length}/${truth.length} rows`);
    const scores = JSON.parse(run.stdout.at(-1) as string) as {
      ensemble: Record<string, Record<string, number>>;
    };
    expect(Object.keys(scores.ensemble)).toEqual(Object.keys(result.ensemble));
    for (const [strategy, expected] of Object.entries(result.ensemble)) {
      for (const [field, value] of Object.entries(expected!)) {
        expect(
          Math.abs((scores.ensemble[strategy]?.[field] as number) - value),
          `${strategy}.${field}`,
        ).toBeLessThan(1e-6);
      }
    }
  });

  it('chorus predict prints a class, its probability, the votes and the disagreement per row', async () => {
    const run = await chorus([
      'predict',
      '--ensemble',
      exportDir,
      '--input',
      testCsv,
      '--json',
      '--backend',
      'cpu',
      '--strategy',
      'hard',
    ]);
    expect(run.code, run.stderr).toBe(0);
    const rows = run.stdout
      .filter((l) => l.startsWith('{'))
      .map(
        (l) =>
          JSON.parse(l) as {
            row: number;
            class: number;
            className: string;
            votes: number[];
            disagreement: number;
          },
      );
    expect(rows).toHaveLength(truth.length);
    const hits = rows.filter((r) => r.class === truth[r.row]).length;
    expect(Math.abs(hits / truth.length - result.ensemble.hard.accuracy)).toBeLessThan(1e-6);
    for (const r of rows.slice(0, 50)) {
      expect(r.className).toBe(String(r.class));
      const differing =
        Number(r.votes[0] !== r.votes[1]) +
        Number(r.votes[0] !== r.votes[2]) +
        Number(r.votes[1] !== r.votes[2]);
      expect(r.disagreement).toBeCloseTo(differing / 3, 6);
    }
  });

  it('chorus predict streams a CSV in batches smaller than the file: the same answers', async () => {
    const args = ['predict', '--ensemble', exportDir, '--input', testCsv, '--json', '--backend', 'cpu'];
    const whole = await chorus(args);
    const batched = await chorus([...args, '--batch-size', '37']);
    expect(whole.code, whole.stderr).toBe(0);
    expect(batched.code, batched.stderr).toBe(0);
    const rows = (run: { stdout: string[] }) => run.stdout.filter((l) => l.startsWith('{'));
    expect(rows(whole)).toHaveLength(truth.length); // 360 rows: 10 batches of 37, the last of 27
    expect(rows(batched)).toEqual(rows(whole));
  });

  it('chorus predict classifies PNG images as the rows they were made from', async () => {
    // Six test rows as 8×8 grey PNGs: pixel p = round(v × 255 / 16). Decoded, p maps back onto the
    // raw range [0, 16] as p × 16 / 255, so the CSV of those values must get the very same answers.
    const folder = join(dir.path, 'digit-images');
    await mkdir(folder);
    const f = 64;
    const quantized: string[] = [];
    for (let i = 0; i < 6; i++) {
      const pixels = Uint8Array.from(raw.subarray(i * f, (i + 1) * f), (v) => Math.round((v * 255) / 16));
      const png = sharp(Buffer.from(pixels), { raw: { width: 8, height: 8, channels: 1 } }).png();
      await png.toFile(join(folder, `digit-${i}.png`));
      quantized.push(Array.from(pixels, (p) => (p * 16) / 255).join(','));
    }
    await writeFile(join(folder, 'notes.txt'), 'not an image: skipped');
    const quantizedCsv = join(dir.path, 'quantized.csv');
    await writeFile(quantizedCsv, `${quantized.join('\n')}\n`);
    const base = ['predict', '--ensemble', exportDir, '--json', '--backend', 'cpu', '--batch-size', '4'];
    const images = await chorus([...base, '--input', folder]);
    const rows = await chorus([...base, '--input', quantizedCsv]);
    expect(images.code, images.stderr).toBe(0);
    expect(rows.code, rows.stderr).toBe(0);
    const parse = (run: { stdout: string[] }) =>
      run.stdout.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const fromImages = parse(images);
    expect(fromImages.map((r) => r.file)).toEqual([0, 1, 2, 3, 4, 5].map((i) => `digit-${i}.png`));
    expect(fromImages.map(({ file: _file, ...r }) => r)).toEqual(parse(rows));
    // One file on its own, too.
    const one = await chorus([...base, '--input', join(folder, 'digit-3.png')]);
    expect(parse(one).map(({ row: _row, ...r }) => r)).toEqual([
      (({ row: _row, ...r }) => r)(fromImages[3] as Record<string, unknown>),
    ]);

    const broken = join(dir.path, 'broken.png');
    await writeFile(broken, 'not a png at all');
    const refused = await chorus([...base, '--input', broken]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`${broken} is not an image Chorus can read`);
  });

  it('chorus predict refuses bad input, saying what is wrong', async () => {
    const empty = join(dir.path, 'empty.csv');
    await writeFile(empty, '\n');
    const short = join(dir.path, 'short.csv');
    await writeFile(short, '1,2,3\n4,5,6\n');
    const outside = join(dir.path, 'outside.csv');
    await writeFile(outside, `${Array.from({ length: 64 }, (_, j) => (j === 9 ? 17 : 0)).join(',')}\n`);
    const cases: [string[], string][] = [
      [['--input', outside], `${outside}: row 0, value 10: 17 is outside the raw range [0, 16]`],
      [
        ['--input', short],
        `${short}: rows have 3 values; this ensemble takes 64 values a row (shape [8, 8, 1])`,
      ],
      [['--input', empty], `${empty}: the file holds no rows`],
      [
        ['--input', testCsv, '--strategy', 'loudest'],
        'unknown strategy "loudest"; this ensemble votes with hard, soft',
      ],
      [['--input', testCsv, '--members', '0,3'], 'this ensemble has members 0–2; there is no member 3'],
      [['--input', short, '--evaluate'], 'rows have 3 values'],
    ];
    for (const [args, message] of cases) {
      const run = await chorus(['predict', '--ensemble', exportDir, '--backend', 'cpu', ...args]);
      expect(run.code, args.join(' ')).toBe(1);
      expect(run.stderr).toContain(message);
    }
  });
});
