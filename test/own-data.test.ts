import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withTestDatabase } from '@chorus/db/testing';
import { RunResultSchema, type RunResult } from '@chorus/protocol';
import { ADMIN_TOKEN, coordinatorApi, getRun, withCluster } from './support/cluster';
import { within } from './support/eventually';
import { ChorusProcess } from './support/processes';

/**
 * A dataset of one's own (README "Your own data") trained by a cluster: `chorus run` reads a CSV on
 * the launching machine, uploads its bundle once to a real coordinator, and two real worker
 * processes download it and train; the result names the CSV's classes and matches `chorus train`
 * (cpu backend, the workers' own) on the same file and config.
 */

const db = withTestDatabase();
const cluster = withCluster(db, { workers: ['e2e-own-a', 'e2e-own-b'] });

async function chorus(args: string[]) {
  const proc = new ChorusProcess(`chorus ${args[0]}`, args, {});
  const exit = await within(proc.exited, 240_000, `chorus ${args.join(' ')} ends`);
  return { code: exit.code, stdout: proc.stdout.join('\n'), stderr: proc.stderr.join('\n') };
}

/** 300 rows: 4 features around a class centre, the class (a word) in the second column. */
function csvText(): string {
  const lines = ['w,species,x,y,z'];
  for (let i = 0; i < 300; i++) {
    const k = (i * 7) % 3;
    const f = (j: number) => (k * 1.5 + Math.sin(i * 12.9898 + j * 78.233) * 1.2).toFixed(4);
    lines.push(`${f(0)},${['setosa', 'virginica', 'versicolor'][k]},${f(1)},${f(2)},${f(3)}`);
  }
  return `${lines.join('\n')}\n`;
}

const CONFIG = ['--label-column', 'species', '--members', '2', '--epochs', '2', '--batch-size', '16', '--seed', '4'];

describe('chorus run on a CSV of the launching machine', () => {
  it('uploads it once, trains it on two workers, and reports its classes like chorus train', async () => {
    const dir = await cluster.tempDir('chorus-own-data-');
    const file = join(dir.path, 'flowers.csv');
    await writeFile(file, csvText());
    const url = cluster.coordinator.url;
    const remote = ['run', '--dataset', 'csv', '--dataset-path', file, ...CONFIG, '--coordinator', url, '--token', ADMIN_TOKEN];

    const first = await chorus([...remote, '--wait', '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/chorus run: uploading .*flowers\.csv as dataset bundle [0-9a-f]{12}… \([\d,]+ bytes\)/);
    const out = JSON.parse(first.stdout.trim().split('\n').pop() ?? '') as RunResult & { runId: string };
    const result = RunResultSchema.parse(out);
    // Sorted class names; 60 test rows (20% of 300) spread over them.
    expect(result.classes?.names).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(result.classes?.testCount.reduce((a, b) => a + b, 0)).toBe(60);

    // The run names the uploaded bundle, not the launching machine's path, and both workers took part.
    const run = await getRun(url, out.runId);
    expect(run.config).toMatchObject({ dataset: 'csv', datasetOptions: { labelColumn: 'species' } });
    expect(run.config).not.toHaveProperty('datasetPath');
    const sha = (run.config as { datasetBundle: string }).datasetBundle;
    expect(await coordinatorApi(url, ADMIN_TOKEN).getDatasetStatus({ params: { sha256: sha } })).toMatchObject({ stored: true });
    const workers = new Set(run.members.map((m) => m.workerId));
    expect(workers.size, JSON.stringify(run.members)).toBe(2);

    // The same data again: nothing is uploaded.
    const second = await chorus(remote);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain(`chorus run: dataset bundle ${sha.slice(0, 12)}… is on the coordinator already: nothing to upload`);

    // chorus train on the same file trains the same members on the same rows.
    const local = await chorus(['train', '--dataset', 'csv', '--dataset-path', file, ...CONFIG, '--backend', 'cpu', '--json']);
    expect(local.code, local.stderr).toBe(0);
    const alone = RunResultSchema.parse(JSON.parse(local.stdout.trim().split('\n').pop() ?? ''));
    expect(alone.classes).toEqual(result.classes);
    expect(alone.members.map((m) => m.testAccuracy)).toEqual(result.members.map((m) => m.testAccuracy));
  });
});
