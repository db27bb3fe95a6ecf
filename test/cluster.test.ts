import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withTestDatabase } from '@chorus/db/testing';
import { RunResultSchema } from '@chorus/protocol';
import {
  ADMIN_TOKEN,
  getRun,
  launchRun,
  coordinatorApi,
  spawnWorker,
  waitForRunEnd,
  withCluster,
  WORKER_TOKEN,
} from './support/cluster';
import { within } from './support/eventually';
import { ChorusProcess, REPO_ROOT } from './support/processes';
import { verifyCompletedRun } from './support/verify';

/**
 * One coordinator process on a fresh Postgres database and two worker processes, all started
 * through `bin/chorus.mjs` as a user would; runs launched over HTTP and with `chorus run`.
 */

const db = withTestDatabase();
const WORKER_NAMES = ['e2e-a', 'e2e-b'];
const cluster = withCluster(db, { workers: WORKER_NAMES });

const small = { dataset: 'synthetic', model: 'mlp', epochs: 2, batchSize: 16, trainLimit: 600 } as const;

describe('a cluster of real processes', () => {
  it('completes a two-worker run whose stored predictions, metrics and result agree', async () => {
    const runId = await launchRun(cluster.coordinator.url, {
      ...small,
      name: 'e2e two workers',
      members: 3,
      seed: 7,
    });
    const run = await waitForRunEnd(() => cluster.coordinator.url, runId, 100_000);
    await verifyCompletedRun(db.prisma, run);

    // Both worker processes trained members, each member on its first lease.
    expect(run.members.map((m) => m.attempt)).toEqual([1, 1, 1]);
    const trainedBy = await db.prisma.worker.findMany({
      where: { id: { in: run.members.map((m) => m.workerId ?? '') } },
      select: { name: true },
    });
    expect(trainedBy.map((w) => w.name).sort()).toEqual(WORKER_NAMES);
  });

  it('refuses a worker with a wrong token, which exits non-zero saying why, and the run goes on without it', async () => {
    const runId = await launchRun(cluster.coordinator.url, { ...small, members: 2, seed: 8 });
    const cache = await cluster.tempDir('chorus-e2e-cache-intruder-');
    const intruder = spawnWorker({
      coordinatorUrl: cluster.coordinator.url,
      name: 'e2e-intruder',
      cacheDir: cache.path,
      token: 'not-the-worker-token-0123456789',
    });
    const exit = await within(intruder.exited, 60_000, 'the worker with a wrong token exits');
    expect(exit).toEqual({ code: 1, signal: null });
    const stderr = intruder.stderr.join('\n');
    expect(stderr).toMatch(
      /^chorus: the coordinator at http:\/\/127\.0\.0\.1:\d+ refused this worker: invalid worker token/m,
    );
    expect(stderr).toContain('CHORUS_WORKER_TOKEN');
    expect(stderr).not.toContain('not-the-worker-token'); // the token itself is never echoed
    expect(stderr).not.toMatch(/unexpected error|\n\s+at /); // a message, not a stack

    const run = await waitForRunEnd(() => cluster.coordinator.url, runId, 100_000);
    await verifyCompletedRun(db.prisma, run);
    expect(run.members.map((m) => m.attempt)).toEqual([1, 1]);
    // It never registered: no row, not listed, and the real workers are still up.
    expect(await db.prisma.worker.count({ where: { name: 'e2e-intruder' } })).toBe(0);
    const listed = await coordinatorApi(cluster.coordinator.url).listWorkers();
    expect(listed.workers.map((w) => [w.name, w.status])).toEqual(WORKER_NAMES.map((n) => [n, 'online']));
    expect([...cluster.workers.values()].every((w) => w.running)).toBe(true);
  });

  it('answers 401 to admin and worker routes without a token of ours, 403 with one of the wrong kind', async () => {
    const before = await db.prisma.run.count();
    const config = { ...small, members: 2 };
    for (const [token, status, code] of [
      [undefined, 401, 'unauthorized'],
      ['wrong-admin-token-0123456789', 401, 'unauthorized'],
      [WORKER_TOKEN, 403, 'forbidden'],
    ] as const) {
      await expect(
        coordinatorApi(cluster.coordinator.url, token).createRun({ body: config }),
        `POST /api/runs with token ${token ?? '(none)'}`,
      ).rejects.toMatchObject({ status, code });
    }
    expect(await db.prisma.run.count()).toBe(before);

    const [run] = await db.prisma.run.findMany({ where: { status: 'completed' }, take: 1 });
    expect(run).toBeDefined();
    const runId = run?.id ?? '';
    for (const [token, status] of [
      [undefined, 401],
      [WORKER_TOKEN, 403],
    ] as const) {
      await expect(
        coordinatorApi(cluster.coordinator.url, token).cancelRun({ params: { id: runId } }),
        `cancel with token ${token ?? '(none)'}`,
      ).rejects.toMatchObject({ status });
    }
    expect((await getRun(cluster.coordinator.url, runId)).status).toBe('completed');
    // With the admin token the same request gets past authentication (and is refused for its state).
    await expect(
      coordinatorApi(cluster.coordinator.url, ADMIN_TOKEN).cancelRun({ params: { id: runId } }),
    ).rejects.toMatchObject({ status: 409 });

    // Dataset bundles and checkpoints are for workers only.
    const sha = run?.datasetSha256 ?? '';
    for (const [token, status] of [
      [undefined, 401],
      [ADMIN_TOKEN, 403],
    ] as const) {
      await expect(
        coordinatorApi(cluster.coordinator.url, token).getDataset({ params: { sha256: sha } }),
        `dataset with token ${token ?? '(none)'}`,
      ).rejects.toMatchObject({ status });
    }
    const bundle = await coordinatorApi(cluster.coordinator.url, WORKER_TOKEN).getDataset({
      params: { sha256: sha },
    });
    expect(bundle.headers.etag).toBe(`"${sha}"`);
    const checkpoint = await db.prisma.checkpoint.findFirst({ where: { member: { runId } } });
    expect(checkpoint).not.toBeNull();
    const params = { memberId: checkpoint?.memberId ?? '', epoch: checkpoint?.epoch ?? 0 };
    await expect(coordinatorApi(cluster.coordinator.url).getCheckpoint({ params })).rejects.toMatchObject({
      status: 401,
    });
  });

  it('`chorus run --wait --json` launches a run and prints its result with the runId', async () => {
    const dir = await cluster.tempDir('chorus-e2e-config-');
    const configFile = join(dir.path, 'run.json');
    await writeFile(configFile, JSON.stringify({ ...small, name: 'e2e chorus run', members: 2, seed: 11 }));
    const cli = new ChorusProcess(
      'chorus run',
      [
        'run',
        '--coordinator',
        cluster.coordinator.url,
        '--token',
        ADMIN_TOKEN,
        '--config',
        configFile,
        '--wait',
        '--json',
      ],
      {},
    );
    const exit = await within(cli.exited, 100_000, '`chorus run --wait` exits');
    expect(exit, cli.tail()).toEqual({ code: 0, signal: null });

    const last = cli.stdout.filter((line) => line.trim() !== '').at(-1) ?? '';
    const printed = JSON.parse(last) as Record<string, unknown>;
    const { runId, ...result } = printed;
    expect(runId).toEqual(expect.any(String));
    expect(RunResultSchema.strict().parse(result)).toEqual(result);

    const run = await getRun(cluster.coordinator.url, runId as string);
    expect(run.config).toMatchObject({ name: 'e2e chorus run', members: 2, seed: 11, dataset: 'synthetic' });
    expect(run.result).toEqual(result);
    await verifyCompletedRun(db.prisma, run);
  });

  it('`chorus run --model-file` trains a Keras model file on the workers, stored in the run config', async () => {
    const cli = new ChorusProcess(
      'chorus run --model-file',
      [
        ...['run', '--coordinator', cluster.coordinator.url, '--token', ADMIN_TOKEN],
        ...[
          '--model-file',
          join(REPO_ROOT, 'docs/model-files/digits-cnn.keras3.json'),
          '--dataset',
          'digits',
        ],
        ...['--members', '2', '--epochs', '2', '--batch-size', '16', '--train-limit', '600', '--seed', '12'],
        ...['--wait', '--json'],
      ],
      {},
    );
    const exit = await within(cli.exited, 100_000, '`chorus run --model-file --wait` exits');
    expect(exit, cli.tail()).toEqual({ code: 0, signal: null });
    const { runId } = JSON.parse(cli.stdout.filter((line) => line.trim() !== '').at(-1) ?? '') as {
      runId: string;
    };

    const run = await getRun(cluster.coordinator.url, runId);
    // The workers never read the file: they built the members from the config the coordinator stored.
    expect(run.config.modelFile?.fileName).toBe('digits-cnn.keras3.json');
    expect(run.config.modelFile?.layers.map((l) => l.kind)).toEqual([
      ...[
        'conv2d',
        'batchNorm',
        'activation',
        'maxPool',
        'dropout',
        'flatten',
        'dense',
        'dense',
        'activation',
      ],
    ]);
    expect(run).toMatchObject({
      modelFile: 'digits-cnn.keras3.json',
      name: '2 × digits-cnn.keras3.json on digits',
    });
    await verifyCompletedRun(db.prisma, run);
  });
});
