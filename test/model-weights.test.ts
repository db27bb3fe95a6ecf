import { createHash } from 'node:crypto';
import { cp, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withTestDatabase } from '@chorus/db/testing';
import { RunResultSchema, type RunConfigInput, type RunResult } from '@chorus/protocol';
import { ADMIN_TOKEN, coordinatorApi, getRun, withCluster, WORKER_TOKEN } from './support/cluster';
import { within } from './support/eventually';
import { ChorusProcess } from './support/processes';

/**
 * A TF.js `model.json` with a weights manifest as `--model-file` (README "Your own model"): every
 * member starts from its weights, in `chorus train` and on a real worker process after `chorus run`
 * uploaded them. The weights are a trained member exported by `chorus train --save`; the new runs
 * train one epoch at a learning rate of 1e-9, so a member's test accuracy is the exported member's
 * (far above chance) only if it really started from those weights.
 */

const db = withTestDatabase();
const cluster = withCluster(db, { workers: ['e2e-weights-a'] });

async function chorus(args: string[]) {
  const proc = new ChorusProcess(`chorus ${args[0]}`, args, {});
  const exit = await within(proc.exited, 240_000, `chorus ${args.join(' ')} ends`);
  return { code: exit.code, stdout: proc.stdout.join('\n'), stderr: proc.stderr.join('\n') };
}

const resultOf = (stdout: string) =>
  JSON.parse(stdout.trim().split('\n').pop() ?? '') as RunResult & { runId?: string };

/** 240 rows: 4 features around a class centre, the class (quoted, a word) last. */
function csvText(): string {
  const lines = ['a,b,c,d,kind'];
  for (let i = 0; i < 240; i++) {
    const k = (i * 7) % 3;
    const f = (j: number) => (k * 1.5 + Math.sin(i * 12.9898 + j * 78.233) * 1.2).toFixed(4);
    lines.push(`${f(0)},${f(1)},${f(2)},${f(3)},"${['north', 'south', 'east'][k]}"`);
  }
  return `${lines.join('\r\n')}\r\n`;
}

const DATA = ['--seed', '5', '--batch-size', '16'];
/** One epoch that cannot move the weights: what the members score is what they started from. */
const FROZEN = ['--members', '2', '--epochs', '1', '--learning-rate', '1e-9', ...DATA];

describe('--model-file with a weights manifest', () => {
  it('starts every member from the weights, locally and on a worker after chorus run uploads them', async () => {
    const dir = await cluster.tempDir('chorus-model-weights-');
    const data = join(dir.path, 'points.csv');
    await writeFile(data, csvText());
    const csv = ['--dataset', 'csv', '--dataset-path', data];

    // A trained member, exported as TF.js layers files: model.json + its shard.
    const saved = join(dir.path, 'trained');
    const trained = await chorus([
      'train',
      ...csv,
      '--members',
      '1',
      '--epochs',
      '8',
      ...DATA,
      '--backend',
      'cpu',
      '--save',
      saved,
      '--json',
    ]);
    expect(trained.code, trained.stderr).toBe(0);
    const trainedAccuracy = RunResultSchema.parse(resultOf(trained.stdout)).members[0]
      ?.testAccuracy as number;
    expect(trainedAccuracy).toBeGreaterThan(0.8); // chance is 1/3
    const modelJson = join(saved, 'members', '0', 'model.json');

    const local = await chorus([
      'train',
      ...csv,
      '--model-file',
      modelJson,
      ...FROZEN,
      '--backend',
      'cpu',
      '--json',
    ]);
    expect(local.code, local.stderr).toBe(0);
    expect(local.stderr).toMatch(
      /note: model\.json: every member starts from its weights \(10 tensors, [\d,]+ bytes from group1-shard1of1\.bin, sha256 [0-9a-f]{12}…\)/,
    );
    const alone = RunResultSchema.parse(resultOf(local.stdout));
    expect(alone.members.map((m) => m.testAccuracy)).toEqual([trainedAccuracy, trainedAccuracy]);

    // Through the coordinator: the weights are uploaded once and the worker starts from them.
    const url = cluster.coordinator.url;
    const remote = [
      'run',
      ...csv,
      '--model-file',
      modelJson,
      ...FROZEN,
      '--coordinator',
      url,
      '--token',
      ADMIN_TOKEN,
    ];
    const first = await chorus([...remote, '--wait', '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(
      /chorus run: uploading the weights of model\.json as [0-9a-f]{12}… \([\d,]+ bytes\)/,
    );
    const out = resultOf(first.stdout);
    expect(RunResultSchema.parse(out).members.map((m) => m.testAccuracy)).toEqual(
      alone.members.map((m) => m.testAccuracy),
    );

    // The run config names the weights by their sha256, and the coordinator holds those bytes.
    const run = await getRun(url, out.runId as string);
    const named = run.config.modelFile?.weights;
    expect(named).toMatchObject({ tensors: 10 });
    const api = coordinatorApi(url, ADMIN_TOKEN);
    expect(await api.getWeightsStatus({ params: { sha256: named?.sha256 as string } })).toMatchObject({
      stored: true,
      bytes: named?.bytes,
    });
    // What a worker downloads (worker token) are those bytes.
    const served = await coordinatorApi(url, WORKER_TOKEN).getWeights({
      params: { sha256: named?.sha256 as string },
    });
    expect(createHash('sha256').update(served.bytes).digest('hex')).toBe(named?.sha256);

    // The same weights again: nothing is uploaded.
    const second = await chorus(remote);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain(
      `chorus run: model weights ${named?.sha256.slice(0, 12)}… are on the coordinator already: nothing to upload`,
    );

    // A run config naming weights the coordinator does not have is refused before anything is stored.
    const config = run.config as RunConfigInput & { modelFile: NonNullable<typeof run.config.modelFile> };
    const missing = {
      ...config,
      modelFile: { ...config.modelFile, weights: { ...named, sha256: 'f'.repeat(64) } },
    };
    await expect(api.createRun({ body: missing as RunConfigInput })).rejects.toThrow(
      `modelFile.weights: no weights ${'f'.repeat(64)} on this coordinator: upload them first`,
    );
  });

  it('refuses a cut-off shard and weights of another model, naming the file and the weight', async () => {
    const dir = await cluster.tempDir('chorus-model-weights-bad-');
    const data = join(dir.path, 'points.csv');
    await writeFile(data, csvText());
    const csv = ['--dataset', 'csv', '--dataset-path', data];
    const saved = join(dir.path, 'trained');
    const trained = await chorus([
      'train',
      ...csv,
      '--members',
      '1',
      '--epochs',
      '1',
      ...DATA,
      '--backend',
      'cpu',
      '--save',
      saved,
    ]);
    expect(trained.code, trained.stderr).toBe(0);

    const cut = join(dir.path, 'cut');
    await cp(join(saved, 'members', '0'), cut, { recursive: true });
    const shard = join(cut, 'group1-shard1of1.bin');
    const size = (await readFile(shard)).length;
    await truncate(shard, size - 4);
    const url = cluster.coordinator.url;
    const run = await chorus([
      'run',
      ...csv,
      '--model-file',
      join(cut, 'model.json'),
      ...FROZEN,
      '--coordinator',
      url,
      '--token',
      ADMIN_TOKEN,
    ]);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(
      `${shard}: the shard holds ${(size - 4).toLocaleString('en-US')} bytes, but the 10 float32 weights ${join(cut, 'model.json')} lists in weightsManifest[0] take ${size.toLocaleString('en-US')}`,
    );
    expect(run.stderr).not.toMatch(/launched/);

    // The topology of the model, but a first layer 3 units wider in the manifest and its shard.
    const wide = join(dir.path, 'wide');
    await cp(join(saved, 'members', '0'), wide, { recursive: true });
    const json = JSON.parse(await readFile(join(wide, 'model.json'), 'utf8')) as {
      weightsManifest: { weights: { name: string; shape: number[] }[] }[];
    };
    const first = json.weightsManifest[0]?.weights[0] as { name: string; shape: number[] };
    const extra = first.shape[0] as number;
    first.shape = [extra, (first.shape[1] as number) + 3];
    await writeFile(join(wide, 'model.json'), JSON.stringify(json));
    const bytes = await readFile(join(wide, 'group1-shard1of1.bin'));
    await writeFile(join(wide, 'group1-shard1of1.bin'), Buffer.concat([bytes, Buffer.alloc(4 * extra * 3)]));
    const local = await chorus([
      'train',
      ...csv,
      '--model-file',
      join(wide, 'model.json'),
      ...FROZEN,
      '--backend',
      'cpu',
    ]);
    expect(local.code).not.toBe(0);
    expect(local.stderr).toMatch(
      new RegExp(
        `the weights of ${join(wide, 'model.json').replace(/[.]/g, '\\.')}: weight "${first.name}" has shape \\[4, \\d+\\]; layer 0 'hidden1' \\(Dense\\) needs \\[4, \\d+\\]`,
      ),
    );
  });
});
