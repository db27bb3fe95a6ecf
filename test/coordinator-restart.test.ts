import { describe, expect, it } from 'vitest';
import { withTestDatabase } from '@chorus/db/testing';
import { coordinatorApi, launchRun, startCoordinator, waitForRunEnd, withCluster } from './support/cluster';
import { expectEventually, within } from './support/eventually';
import type { ChorusProcess } from './support/processes';
import { verifyCompletedRun } from './support/verify';

/**
 * The coordinator is stopped (SIGTERM) in the middle of a run and a new coordinator process is
 * started on the same database, data dir and port. The worker processes are left alone: they
 * reconnect by themselves, and the run completes.
 */

const db = withTestDatabase();
const WORKER_NAMES = ['e2e-restart-a', 'e2e-restart-b'];
const cluster = withCluster(db, { workers: WORKER_NAMES });

const connections = (worker: ChorusProcess) =>
  worker.jsonLines().filter((l) => l.msg === 'connected to the coordinator').length;

describe('the coordinator restarted mid-run', () => {
  it('comes back on the same database and data dir; the workers reconnect and the run completes', async () => {
    const runId = await launchRun(cluster.coordinator.url, {
      name: 'e2e coordinator restart',
      dataset: 'synthetic',
      model: 'mlp',
      members: 2,
      sharding: 'full',
      // Six epochs of 1,800 steps: after a member's first checkpoint, seconds of training are left
      // for the restart even when other tests load the machine (with three epochs of 900 steps, a
      // member once completed between the check below and the coordinator's exit).
      epochs: 6,
      batchSize: 1,
      seed: 9,
    });

    // Mid-run: both members are being trained and one has a checkpoint.
    await expectEventually(
      async () => {
        const members = await db.prisma.member.findMany({
          where: { runId },
          include: { _count: { select: { checkpoints: true } } },
        });
        expect(members.map((m) => m.status)).toEqual(['running', 'running']);
        expect(members.some((m) => m._count.checkpoints > 0)).toBe(true);
      },
      90_000,
      { intervalMs: 50, what: 'both members training, one past its first checkpoint' },
    );

    const first = cluster.coordinator;
    first.process.signal('SIGTERM');
    const exit = await within(first.process.exited, 30_000, 'the coordinator exits after SIGTERM');
    expect(exit, first.process.tail()).toEqual({ code: 0, signal: null });
    expect(first.process.stderr.join('\n')).toContain('SIGTERM: shutting down');
    const atRestart = await db.prisma.run.findUniqueOrThrow({
      where: { id: runId },
      include: { members: true },
    });
    expect(atRestart.status, 'the run was still going when the coordinator stopped').toBe('running');
    expect(atRestart.members.every((m) => m.status !== 'completed')).toBe(true);

    cluster.coordinator = await startCoordinator({
      databaseUrl: db.connectionString,
      dataDir: cluster.dataDir,
      port: first.port,
      label: 'coordinator (restarted)',
    });
    expect(cluster.coordinator.url).toBe(first.url);

    const run = await waitForRunEnd(() => cluster.coordinator.url, runId, 120_000);
    await verifyCompletedRun(db.prisma, run);

    // The same two worker processes finished it: still running, connected to both coordinators,
    // and online again for the new one.
    const workers = [...cluster.workers.values()];
    expect(workers.map((w) => w.running)).toEqual([true, true]);
    for (const worker of workers) expect(connections(worker), worker.label).toBeGreaterThanOrEqual(2);
    const listed = await coordinatorApi(cluster.coordinator.url).listWorkers();
    expect(listed.workers.map((w) => [w.name, w.status])).toEqual(WORKER_NAMES.map((n) => [n, 'online']));
    const ids = (await db.prisma.worker.findMany({ select: { id: true } })).map((w) => w.id);
    expect(run.members.every((m) => m.workerId !== null && ids.includes(m.workerId))).toBe(true);
    // The new coordinator served the run from the bundle in the data dir (not rebuilt from the dataset).
    expect(
      cluster.coordinator.process
        .jsonLines()
        .filter((l) => String(l.msg).startsWith('dataset bundle missing')),
    ).toEqual([]);
  });
});
