import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deriveRun, loadRunDataset } from '@chorus/data';
import { withTestDatabase } from '@chorus/db/testing';
import { parseRunConfig, type RunResult } from '@chorus/protocol';
import { ADMIN_TOKEN, coordinatorApi, launchRun, waitForRunEnd, withCluster } from './support/cluster';
import { within } from './support/eventually';
import { ChorusProcess } from './support/processes';

/**
 * `chorus export` of a run trained by a coordinator and a worker (real processes, real Postgres):
 * the directory it writes predicts the run's test split to the run's stored test figures.
 */

const db = withTestDatabase();
const cluster = withCluster(db, { workers: ['e2e-export'] });

async function chorus(args: string[]): Promise<{ code: number | null; stdout: string[]; stderr: string }> {
  const proc = new ChorusProcess(`chorus ${args[0]}`, args, {});
  const exit = await within(proc.exited, 120_000, `chorus ${args.join(' ')} exits`);
  return { code: exit.code, stdout: proc.stdout, stderr: proc.stderr.join('\n') };
}

describe('chorus export', () => {
  it("writes a completed run's ensemble, which predicts the run's test figures", async () => {
    const config = {
      dataset: 'synthetic',
      model: 'mlp',
      members: 3,
      epochs: 2,
      batchSize: 32,
      trainLimit: 600,
      seed: 11,
    } as const;
    const runId = await launchRun(cluster.coordinator.url, config);
    const run = await waitForRunEnd(() => cluster.coordinator.url, runId, 120_000);
    expect(run.status).toBe('completed');
    const result = run.result as RunResult;
    const dir = (await cluster.tempDir('chorus-e2e-export-out-')).path;
    const out = join(dir, 'ensemble');

    const base = ['export', '--coordinator', cluster.coordinator.url, '--run', runId, '--out', out];
    const refused = await chorus([...base, '--token', 'not-the-admin-token-0123456789']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/the admin \(CHORUS_ADMIN_TOKEN\) token/);

    const exported = await chorus([...base, '--token', ADMIN_TOKEN]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stderr).toContain(`exported run ${runId} (3 members) to ${out}`);
    const manifest = JSON.parse(await readFile(join(out, 'ensemble.json'), 'utf8')) as {
      runId: string;
      result: RunResult;
      strategies: string[];
    };
    expect(manifest.runId).toBe(runId);
    expect(manifest.result).toEqual(result);
    expect(manifest.strategies).toEqual(Object.keys(result.ensemble));

    // The run's test split (synthetic data is stored in [0, 1]: its raw values are its values).
    const cfg = parseRunConfig(config);
    const test = deriveRun(cfg, await loadRunDataset(cfg)).test;
    const f = 64;
    const rows = Array.from({ length: test.count }, (_, i) =>
      [...test.x.subarray(i * f, (i + 1) * f), test.y[i]].join(','),
    );
    const csv = join(dir, 'test.csv');
    await writeFile(csv, `${rows.join('\n')}\n`);
    const predicted = await chorus(['predict', '--ensemble', out, '--input', csv, '--evaluate', '--json']);
    expect(predicted.code, predicted.stderr).toBe(0);
    const scores = JSON.parse(predicted.stdout.at(-1) as string) as {
      ensemble: Record<string, Record<string, number>>;
    };
    for (const [strategy, expected] of Object.entries(result.ensemble)) {
      for (const [field, value] of Object.entries(expected!)) {
        expect(
          Math.abs((scores.ensemble[strategy]?.[field] as number) - value),
          `${strategy}.${field}`,
        ).toBeLessThan(1e-6);
      }
    }

    const again = await chorus([...base, '--token', ADMIN_TOKEN]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`${out} is not empty`);
    const unknown = await chorus([
      ...base.slice(0, 3),
      '--run',
      'no-such-run',
      '--out',
      join(dir, 'x'),
      '--token',
      ADMIN_TOKEN,
    ]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no run no-such-run on the coordinator');

    const busy = await launchRun(cluster.coordinator.url, { ...config, epochs: 200, seed: 12 });
    const early = await chorus([
      ...base.slice(0, 3),
      '--run',
      busy,
      '--out',
      join(dir, 'y'),
      '--token',
      ADMIN_TOKEN,
    ]);
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(
      new RegExp(`run ${busy} is (pending|running): only a completed run can be exported`),
    );
    await coordinatorApi(cluster.coordinator.url, ADMIN_TOKEN).cancelRun({ params: { id: busy } });
  });
});
