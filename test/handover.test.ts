import { describe, expect, it } from 'vitest';
import { withTestDatabase } from '@chorus/db/testing';
import { launchRun, waitForRunEnd, withCluster } from './support/cluster';
import { verifyCompletedRun } from './support/verify';

/**
 * Straggler handover between real processes. Worker "busy" trains three members side by side on
 * one thread (`--slots 3`), so each goes at about a third of the speed of worker "free"
 * (`--slots 1`). When "free" finishes its member, the queue is empty, and busy's members would
 * finish sooner on it: the coordinator asks "busy" to hand one over, and "free" resumes it from
 * the checkpoint taken where "busy" stopped.
 */

const db = withTestDatabase();
const cluster = withCluster(db, {
  workers: [
    { name: 'e2e-busy', slots: 3 },
    { name: 'e2e-free', slots: 1 },
  ],
  handover: true,
});

describe('a slower worker’s member', () => {
  it('is handed over to an idle faster worker, resumed from the checkpoint where it stopped, and the run completes', async () => {
    // About 10 s of training per member on an idle core (synthetic, 1,800 rows, mini-batches of 1):
    // at a third of that speed, what is left of busy's members gains far more than a handover costs.
    const epochs = 12;
    const runId = await launchRun(cluster.coordinator.url, {
      name: 'e2e handover',
      dataset: 'synthetic',
      model: 'mlp',
      members: 4,
      sharding: 'full',
      epochs,
      batchSize: 1,
      seed: 7,
    });
    const run = await waitForRunEnd(() => cluster.coordinator.url, runId, 180_000);
    await verifyCompletedRun(db.prisma, run);

    const free = await db.prisma.worker.findFirstOrThrow({ where: { name: 'e2e-free' } });
    const moved = run.members.filter((m) => m.attempt > 1);
    expect(moved.length, 'a member was handed over').toBeGreaterThanOrEqual(1);
    const busyLog = cluster.workers.get('e2e-busy')!.jsonLines();
    const freeLog = cluster.workers.get('e2e-free')!.jsonLines();
    for (const member of moved) {
      expect(member).toMatchObject({ status: 'completed', attempt: 2, workerId: free.id });
      // "busy" stopped it after some batches and said so …
      const handedOver = busyLog.find((l) => l.memberId === member.id && l.msg === 'member handed over');
      expect(handedOver, 'the busy worker logged the handover').toBeDefined();
      const offset = handedOver!['planOffset'] as number;
      expect(offset).toBeGreaterThan(0);
      expect(offset).toBeLessThan(member.totalBatches ?? 0);
      // … and "free" resumed it there, not from batch 0.
      const start = freeLog.find(
        (l) =>
          l.memberId === member.id &&
          l.attempt === 2 &&
          (l.msg === 'resuming member from its checkpoint' || l.msg === 'training member'),
      );
      expect(start).toMatchObject({ msg: 'resuming member from its checkpoint', from: offset });
    }
    // The members nobody handed over were leased once.
    expect(run.members.filter((m) => m.attempt === 1)).toHaveLength(4 - moved.length);
  });
});
