import { describe, expect, it } from 'vitest';
import { withTestDatabase } from '@chorus/db/testing';
import { countMemberParams, DATASET_SHAPES } from '@chorus/protocol';
import { getRun, launchRun, waitForRunEnd, withCluster } from './support/cluster';
import { expectEventually } from './support/eventually';
import { verifyCompletedRun } from './support/verify';

/**
 * A member of real size: fashion-dnn at width 2,900 on the synthetic dataset's 8×8 inputs has
 * 25.4 M parameters, so its checkpoints (weights and Adam's moments, ≈ 305 MB; the last one weights
 * only, ≈ 102 MB) are far beyond a socket message and travel by `PUT /api/checkpoints/…`. The worker
 * holding it is killed (SIGKILL) after its first checkpoint; the other worker downloads that
 * checkpoint and resumes from it, and the run completes. The transfer times and the coordinator's
 * peak RSS are printed (never asserted): bench/checkpoint.bench.ts measures them on their own.
 */

const WIDTH = 2_900;
const db = withTestDatabase();
const cluster = withCluster(db, {
  // The coordinator's default lease, not the 10 s of the other end-to-end tests: building this
  // member, its first step and its checkpoint each hold a worker's thread for seconds (5 s, 3 s and
  // 2.5 s on an idle core of our build machines; twice that on a busy one), and heartbeats wait.
  leaseMs: 30_000,
  // wasm: its matrix products make a step of this member a second or so, not ten.
  workers: [
    { name: 'e2e-big-a', backend: 'wasm' },
    { name: 'e2e-big-b', backend: 'wasm' },
  ],
});

describe('a 25 M-parameter member', () => {
  it('checkpoints over HTTP, survives the SIGKILL of its worker and completes on the other', async () => {
    const params = countMemberParams({ model: 'fashion-dnn', ...DATASET_SHAPES.synthetic, width: WIDTH });
    expect(params).toBeGreaterThanOrEqual(25_000_000);
    const epochs = 3;
    const runId = await launchRun(cluster.coordinator.url, {
      name: 'e2e large member',
      dataset: 'synthetic',
      model: 'fashion-dnn',
      members: 1,
      memberOverrides: [{ member: 0, width: WIDTH }],
      sharding: 'full',
      epochs,
      batchSize: 8,
      // 36 training rows: 5 mini-batches an epoch.
      trainLimit: 40,
      seed: 3,
    });

    const victim = await expectEventually(
      async () => {
        const member = await db.prisma.member.findFirst({
          where: { runId, status: 'running', workerId: { not: null }, checkpoints: { some: {} } },
          include: { worker: { select: { name: true } } },
        });
        if (!member?.worker) throw new Error('the member has no checkpoint yet');
        return { id: member.id, worker: member.worker.name };
      },
      240_000,
      { intervalMs: 50, what: 'the member has its first checkpoint and is still training' },
    );
    const victimProcess = cluster.workers.get(victim.worker);
    if (!victimProcess) throw new Error(`no worker process named ${victim.worker}`);
    expect(await victimProcess.kill()).toEqual({ code: null, signal: 'SIGKILL' });
    const [survivorName, survivor] = [...cluster.workers].find(([name]) => name !== victim.worker) ?? [];
    if (!survivorName || !survivor) throw new Error('no surviving worker');

    // The checkpoint it left: a file (no bytes in the row) holding weights and both Adam moments.
    const [left] = await db.prisma.checkpoint.findMany({ where: { memberId: victim.id } });
    expect(left).toMatchObject({ epoch: 0, weights: null, file: expect.stringMatching(/\.chck$/) });
    expect(left?.size).toBeGreaterThan(3 * 4 * params);

    const run = await waitForRunEnd(() => cluster.coordinator.url, runId, 400_000);
    await verifyCompletedRun(db.prisma, run);
    expect(run.members[0]).toMatchObject({ status: 'completed', attempt: 2 });
    const totalBatches = (await getRun(cluster.coordinator.url, runId)).members[0]?.totalBatches ?? NaN;

    // The survivor resumed from the checkpoint's plan offset after downloading it whole.
    const log = survivor.jsonLines().filter((l) => l.memberId === victim.id && l.attempt === 2);
    expect(log.find((l) => l.msg === 'checkpoint downloaded')).toMatchObject({ epoch: 0, bytes: left?.size });
    expect(log.find((l) => l.msg === 'resuming member from its checkpoint')).toMatchObject({
      from: totalBatches / epochs,
      total: totalBatches,
    });
    // Its later checkpoints went up as files too: epoch 1 with the moments, the last weights only.
    const uploads = log.filter((l) => l.msg === 'checkpoint uploaded');
    expect(uploads.map((l) => l.epoch)).toEqual([1, 2]);
    expect(uploads[1]?.bytes).toBeLessThan(uploads[0]?.bytes as number);
    // No reconnect loop: each worker connected once.
    for (const proc of [victimProcess, survivor]) {
      expect(proc.jsonLines().filter((l) => l.msg === 'connected to the coordinator')).toHaveLength(1);
    }

    // The coordinator's view of the first upload (the victim may have died before logging it).
    const first = cluster.coordinator.process
      .jsonLines()
      .find((l) => l.msg === 'checkpoint stored' && l.memberId === victim.id);
    const download = log.find((l) => l.msg === 'checkpoint downloaded');
    const mb = (b: unknown) => `${((b as number) / 1e6).toFixed(1)} MB`;
    console.log(
      `[figures] ${params} parameters; upload of ${mb(first?.bytes)} ${String(first?.seconds)} s; ` +
        `download ${String(download?.seconds)} s; last upload ${mb(uploads[1]?.bytes)} ${String(uploads[1]?.seconds)} s; ` +
        `coordinator peak RSS ${mb(cluster.coordinator.process.peakRssBytes())}`,
    );
  }, 600_000);
});
