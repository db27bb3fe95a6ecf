import { describe, expect, it } from 'vitest';
import { withTestDatabase } from '@chorus/db/testing';
import { getRun, launchRun, waitForRunEnd, withCluster } from './support/cluster';
import { expectEventually } from './support/eventually';
import { verifyCompletedRun } from './support/verify';

/**
 * A worker process dies (SIGKILL: no goodbye, no `member:failed`) in the middle of a member, after
 * that member's first checkpoint. Its lease expires, the other worker takes the member over and
 * resumes it from the checkpoint, and the run completes.
 */

const db = withTestDatabase();
const cluster = withCluster(db, { workers: ['e2e-kill-a', 'e2e-kill-b'] });

describe('a worker killed mid-run', () => {
  it('has its member resumed from the checkpoint by the other worker, and the run completes', async () => {
    // Every member trains on all 1800 rows in mini-batches of 2: 900 steps an epoch, long enough
    // to kill a worker between its member's first checkpoint and its last.
    const epochs = 3;
    const runId = await launchRun(cluster.coordinator.url, {
      name: 'e2e worker killed',
      dataset: 'synthetic',
      model: 'mlp',
      members: 2,
      sharding: 'full',
      epochs,
      batchSize: 2,
      seed: 5,
    });

    // The first member with a checkpoint that is still being trained: kill its worker at once.
    const victim = await expectEventually(
      async () => {
        const members = await db.prisma.member.findMany({
          where: { runId, status: 'running', workerId: { not: null }, checkpoints: { some: {} } },
          include: { worker: { select: { id: true, name: true } } },
        });
        const member = members[0];
        if (!member?.worker) throw new Error('no member with a checkpoint is being trained yet');
        return { id: member.id, index: member.index, worker: member.worker };
      },
      90_000,
      { intervalMs: 25, what: 'a member has a checkpoint and is still training' },
    );
    const victimProcess = cluster.workers.get(victim.worker.name);
    if (!victimProcess) throw new Error(`no worker process named ${victim.worker.name}`);
    expect(await victimProcess.kill()).toEqual({ code: null, signal: 'SIGKILL' });
    const [survivorName, survivorProcess] =
      [...cluster.workers].find(([name]) => name !== victim.worker.name) ?? [];
    if (!survivorName || !survivorProcess) throw new Error('no surviving worker');

    // What the database holds for the member at the moment its worker died.
    const atKill = await db.prisma.member.findUniqueOrThrow({
      where: { id: victim.id },
      include: {
        checkpoints: { select: { epoch: true, step: true, planOffset: true } },
        predictions: { select: { split: true, round: true, updatedAt: true } },
      },
    });
    const totalBatches =
      (await getRun(cluster.coordinator.url, runId)).members[victim.index]?.totalBatches ?? NaN;
    const perEpoch = totalBatches / epochs;
    expect(atKill.status, 'the member was killed before it finished').not.toBe('completed');
    expect(atKill.attempt).toBe(1);
    const checkpoint = atKill.checkpoints.reduce((a, b) => (b.epoch > a.epoch ? b : a));
    expect(checkpoint.planOffset).toBe((checkpoint.epoch + 1) * perEpoch);
    expect(checkpoint.planOffset, 'work was left after the checkpoint').toBeLessThan(totalBatches);

    const run = await waitForRunEnd(() => cluster.coordinator.url, runId, 100_000);
    await verifyCompletedRun(db.prisma, run);

    // The member was leased a second time, to the surviving worker; the other member only once.
    const survivor = await db.prisma.worker.findFirstOrThrow({ where: { name: survivorName } });
    const resumed = run.members.find((m) => m.id === victim.id);
    expect(resumed).toMatchObject({ status: 'completed', attempt: 2, workerId: survivor.id });
    expect(run.members.filter((m) => m.id !== victim.id).map((m) => m.attempt)).toEqual([1]);

    // Attempt 2 started from the checkpoint's plan offset and step, not from batch 0 …
    const log = survivorProcess.jsonLines().filter((l) => l.memberId === victim.id && l.attempt === 2);
    const start = log.find(
      (l) => l.msg === 'resuming member from its checkpoint' || l.msg === 'training member',
    );
    expect(start).toMatchObject({
      msg: 'resuming member from its checkpoint',
      from: checkpoint.planOffset,
      total: totalBatches,
    });
    // … trained only the epochs after it, numbering its steps on from the checkpoint's step …
    const epochsDone = log.filter((l) => l.msg === 'epoch done');
    expect(epochsDone.map((l) => [l.epoch, l.step])).toEqual(
      Array.from({ length: epochs - checkpoint.epoch - 1 }, (_, i) => {
        const epoch = checkpoint.epoch + 1 + i;
        return [epoch, checkpoint.step + (i + 1) * perEpoch];
      }),
    );
    // … and never re-sent the rounds the checkpoint covers: their predictions are untouched.
    const covered = await db.prisma.prediction.findMany({
      where: { memberId: victim.id, round: { lte: checkpoint.epoch } },
      select: { split: true, round: true, updatedAt: true },
    });
    const byKey = (a: { round: number; split: string }, b: { round: number; split: string }) =>
      a.round - b.round || a.split.localeCompare(b.split);
    expect(covered.length).toBe(2 * (checkpoint.epoch + 1));
    const before = atKill.predictions.filter((p) => p.round <= checkpoint.epoch);
    expect(covered.sort(byKey)).toEqual(before.sort(byKey));
  });
});
