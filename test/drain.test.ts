import { describe, expect, it } from 'vitest';
import { RunResultSchema, type RunConfigInput } from '@chorus/protocol';
import { withTestDatabase } from '@chorus/db/testing';
import {
  ADMIN_TOKEN,
  coordinatorApi,
  launchRun,
  startWorker,
  waitForRunEnd,
  withCluster,
  type RunView,
} from './support/cluster';
import { expectEventually } from './support/eventually';
import type { ChorusProcess } from './support/processes';
import { verifyCompletedRun } from './support/verify';

/**
 * Draining a worker between real processes: SIGTERM to a worker, or POST /api/workers/:id/drain,
 * in the middle of a member's epoch. The worker checkpoints the member where it got to, releases
 * it and exits 0; the other worker resumes it from that checkpoint, and the run ends with the
 * same weights and result as the same run left undisturbed.
 */

const db = withTestDatabase();
const cluster = withCluster(db, { workers: ['e2e-drain-a', 'e2e-drain-b'] });

// Every member trains on all 1800 rows in mini-batches of 4: 450 steps an epoch. Six epochs, so that
// the member the test picks (its step read from the database, up to one metrics flush late) is still
// training when the drain arrives: with two, a loaded machine saw it finish first (members: 0).
const config: RunConfigInput = {
  name: 'e2e drain',
  dataset: 'synthetic',
  model: 'mlp',
  members: 2,
  sharding: 'full',
  epochs: 6,
  batchSize: 4,
  seed: 11,
};

/** The first member that has trained some steps and is still training: its id and worker's name. */
async function memberInTraining(
  runId: string,
): Promise<{ id: string; workerId: string; workerName: string }> {
  return expectEventually(
    async () => {
      const member = await db.prisma.member.findFirst({
        where: { runId, status: 'running', step: { gt: 20 }, workerId: { not: null } },
        include: { worker: { select: { id: true, name: true } } },
      });
      if (!member?.worker) throw new Error('no member has trained 20 steps yet');
      return { id: member.id, workerId: member.worker.id, workerName: member.worker.name };
    },
    90_000,
    { intervalMs: 25, what: 'a member is training' },
  );
}

/** The final checkpoint's bytes of each member, by index (weights + step: what training ended with). */
async function finalWeights(runId: string): Promise<string[]> {
  const members = await db.prisma.member.findMany({
    where: { runId },
    orderBy: { index: 'asc' },
    include: { checkpoints: { orderBy: { epoch: 'desc' }, take: 1 } },
  });
  return members.map((m) => Buffer.from(m.checkpoints[0]?.weights ?? new Uint8Array()).toString('base64'));
}

/** A run's result without the members' samples/s (timing, which differs from run to run). */
function withoutSpeeds(result: RunView['result']): unknown {
  const parsed = RunResultSchema.parse(result);
  return { ...parsed, members: parsed.members.map(({ samplesPerSecond: _s, ...m }) => m) };
}

/** Checks what a drain leaves: the drained worker's log, its exit, the member resumed elsewhere. */
async function expectDrained(
  run: RunView,
  victim: { id: string; workerName: string },
  drained: ChorusProcess,
  successor: ChorusProcess,
): Promise<void> {
  await verifyCompletedRun(db.prisma, run);
  expect(await drained.exited, drained.tail()).toEqual({ code: 0, signal: null });
  const log = drained.jsonLines();
  const released = log.find((l) => l.memberId === victim.id && l.msg === 'member handed over');
  expect(released, 'the drained worker released its member').toMatchObject({ reason: 'drain' });
  const offset = released!['planOffset'] as number;
  const member = run.members.find((m) => m.id === victim.id)!;
  expect(offset).toBeGreaterThan(0);
  expect(offset).toBeLessThan(member.totalBatches ?? 0);
  // The drained worker asked for nothing after it began draining.
  const drainAt = log.findIndex((l) => l.msg === 'draining: handing members back, then stopping');
  expect(drainAt).toBeGreaterThanOrEqual(0);
  expect(log.slice(drainAt).filter((l) => l.msg === 'got a member')).toEqual([]);
  // The successor resumed the member from that checkpoint, under the next attempt …
  const start = successor
    .jsonLines()
    .find(
      (l) => l.memberId === victim.id && l.attempt === 2 && typeof l.msg === 'string' && /member/.test(l.msg),
    );
  expect(start).toMatchObject({ msg: 'resuming member from its checkpoint', from: offset });
  // … and the drained lease did not count as a failure.
  const row = await db.prisma.member.findUniqueOrThrow({ where: { id: victim.id } });
  expect(row).toMatchObject({ attempt: 2, handovers: 1, status: 'completed' });
}

describe('draining a worker', () => {
  const results: Record<'signal' | 'route' | 'undisturbed', { weights: string[]; run: RunView }> =
    {} as never;

  it('by SIGTERM: the worker releases its member at the next step and exits 0; the run completes', async () => {
    const runId = await launchRun(cluster.coordinator.url, config);
    const victim = await memberInTraining(runId);
    const drained = cluster.workers.get(victim.workerName)!;
    const successor = [...cluster.workers].find(([name]) => name !== victim.workerName)![1];
    drained.signal('SIGTERM');
    const run = await waitForRunEnd(() => cluster.coordinator.url, runId, 150_000);
    await expectDrained(run, victim, drained, successor);
    cluster.workers.delete(victim.workerName);
    results.signal = { weights: await finalWeights(runId), run };
  });

  it('by POST /api/workers/:id/drain (admin token): the same, and the worker is leased nothing more', async () => {
    const name = 'e2e-drain-c';
    const started = await startWorker({
      coordinatorUrl: cluster.coordinator.url,
      name,
      cacheDir: (await cluster.tempDir('chorus-e2e-cache-c-')).path,
    });
    cluster.workers.set(name, started);
    const api = coordinatorApi(cluster.coordinator.url);
    const runId = await launchRun(cluster.coordinator.url, config);
    const victim = await memberInTraining(runId);
    // Without the admin token: refused, nothing drains.
    await expect(api.drainWorker({ params: { id: victim.workerId } })).rejects.toMatchObject({
      code: 'unauthorized',
    });
    const answer = await coordinatorApi(cluster.coordinator.url, ADMIN_TOKEN).drainWorker({
      params: { id: victim.workerId },
    });
    expect(answer).toEqual({ id: victim.workerId, draining: true, members: 1 });
    const drained = cluster.workers.get(victim.workerName)!;
    const successor = [...cluster.workers].find(([n, p]) => n !== victim.workerName && p.running)![1];
    const run = await waitForRunEnd(() => cluster.coordinator.url, runId, 150_000);
    await expectDrained(run, victim, drained, successor);
    cluster.workers.delete(victim.workerName);
    // A worker that is gone cannot be drained: 409, saying so.
    await expect(
      coordinatorApi(cluster.coordinator.url, ADMIN_TOKEN).drainWorker({ params: { id: victim.workerId } }),
    ).rejects.toMatchObject({ code: 'conflict' });
    results.route = { weights: await finalWeights(runId), run };
  });

  it('leaves the same weights and result as the run left undisturbed', async () => {
    const runId = await launchRun(cluster.coordinator.url, config);
    const run = await waitForRunEnd(() => cluster.coordinator.url, runId, 150_000);
    await verifyCompletedRun(db.prisma, run);
    expect(run.members.map((m) => m.attempt)).toEqual([1, 1]);
    const weights = await finalWeights(runId);
    expect(weights.every((w) => w.length > 0)).toBe(true);
    for (const disturbed of [results.signal, results.route]) {
      expect(disturbed, 'the drain tests ran first').toBeDefined();
      expect(disturbed.weights).toEqual(weights);
      expect(withoutSpeeds(disturbed.run.result)).toEqual(withoutSpeeds(run.result));
    }
  });
});
