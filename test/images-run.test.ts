import { describe, expect, it } from 'vitest';
import { withTestDatabase } from '@chorus/db/testing';
import { RunResultSchema, type RunResult } from '@chorus/protocol';
import { ADMIN_TOKEN, getRun, withCluster } from './support/cluster';
import { within } from './support/eventually';
import { writePatternFolder } from './support/image-folder';
import { ChorusProcess } from './support/processes';

/**
 * An `images` dataset (README "Your own data", images) trained by a cluster: `chorus run` decodes a
 * folder of generated PNGs on the launching machine, uploads its bundle (the same path as a csv),
 * and two real worker processes train a convnet on it; the result names the folder's classes.
 */

const db = withTestDatabase();
const cluster = withCluster(db, { workers: ['e2e-img-a', 'e2e-img-b'] });

async function chorus(args: string[]) {
  const proc = new ChorusProcess(`chorus ${args[0]}`, args, {});
  const exit = await within(proc.exited, 240_000, `chorus ${args.join(' ')} ends`);
  return { code: exit.code, stdout: proc.stdout.join('\n'), stderr: proc.stderr.join('\n') };
}

describe('chorus run --dataset images', () => {
  it('uploads the decoded folder and trains small-cnn on two workers', async () => {
    const dir = await cluster.tempDir('chorus-images-run-');
    await writePatternFolder(dir.path);
    const url = cluster.coordinator.url;
    const out = await chorus([
      'run', '--dataset', 'images', '--dataset-path', dir.path, '--model', 'small-cnn', '--members', '2',
      '--epochs', '4', '--batch-size', '16', '--seed', '2', '--coordinator', url, '--token', ADMIN_TOKEN, '--wait', '--json',
    ]);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stderr).toMatch(/chorus run: uploading .* as dataset bundle [0-9a-f]{12}… \([\d,]+ bytes\)/);
    const parsed = JSON.parse(out.stdout.trim().split('\n').pop() ?? '') as RunResult & { runId: string };
    const result = RunResultSchema.parse(parsed);
    expect(result.classes?.names).toEqual(['checker', 'horizontal', 'vertical']);
    expect(result.classes?.testCount.reduce((a, b) => a + b, 0)).toBe(24); // 20% of 120
    expect(result.ensemble.soft.accuracy).toBeGreaterThanOrEqual(0.7); // chance: 1/3

    const run = await getRun(url, parsed.runId);
    expect(run.config).toMatchObject({ dataset: 'images', model: 'small-cnn' });
    expect(run.config).not.toHaveProperty('datasetPath');
    expect(new Set(run.members.map((m) => m.workerId)).size).toBe(2);
  });
});
