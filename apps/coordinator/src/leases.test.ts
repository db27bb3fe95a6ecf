import { describe, expect, it } from 'vitest';
import { loadDataset, prepareRunData } from '@chorus/data';
import { parseRunConfig, type LeaseRef } from '@chorus/protocol';
import {
  checkpointFor,
  bytesOf,
  connectWorker,
  createFakeClock,
  expectEventually,
  handshake,
  httpClient,
  softmaxRows,
  WORKER_TOKEN,
  withCoordinator,
  type WorkerSocket,
  cancelRun,
  claimAssignment,
  launchRun,
  leaseOf,
} from './testing/harness';

const clock = createFakeClock();
const LEASE_MS = 10_000;
const fixture = withCoordinator({ clock: clock.now, leaseMs: LEASE_MS });

const tiny = {
  dataset: 'synthetic',
  epochs: 2,
  batchSize: 64,
  trainLimit: 400,
  validationFraction: 0.25,
  seed: 5,
} as const;

const launch = (members: number): Promise<string> => launchRun(fixture.coordinator, { ...tiny, members });
const claim = claimAssignment;

/** One metrics message and one plan request about a lease (the messages checked in memory). */
async function readOnlyAnswers(worker: WorkerSocket, lease: LeaseRef, step: number) {
  const metrics = await worker.emitWithAck('metrics', {
    ...lease,
    points: [{ step, epoch: 0, loss: 1, accuracy: 0, samplesPerSecond: 1 }],
  });
  const plan = await worker.emitWithAck('plan:next', { ...lease, offset: 0, count: 1 });
  return [metrics.ok ? 'ok' : metrics.code, plan.ok ? 'ok' : plan.code];
}

const cancel = (runId: string): Promise<void> => cancelRun(fixture.coordinator, runId);

describe('messages about members a worker does not hold, and bad predictions', () => {
  it('are refused with nothing stored, while other workers are still served', async () => {
    const runId = await launch(2);
    const cfg = parseRunConfig({ ...tiny, members: 2 });
    const { validation } = prepareRunData(await loadDataset('synthetic', { seed: cfg.seed }), cfg);
    const rows = validation.count;
    const one = await connectWorker(fixture.coordinator, handshake({ slots: 1 }));
    const two = await connectWorker(fixture.coordinator, handshake({ slots: 1 }));
    const mine = await claim(one);
    const theirs = await claim(two);
    expect(await one.emitWithAck('member:request', {})).toEqual({ ok: true, assignment: null }); // one slot

    const good = softmaxRows(rows, 4, 1);
    const predictions = (lease: LeaseRef, overrides: Record<string, unknown> = {}) => ({
      ...lease,
      round: 0,
      split: 'validation' as const,
      rows,
      numClasses: 4,
      probabilities: bytesOf(good),
      ...overrides,
    });
    // Not this worker's member, or a stale attempt.
    for (const lease of [leaseOf(theirs), { ...leaseOf(mine), attempt: 2 }]) {
      expect(await one.emitWithAck('predictions', predictions(lease))).toMatchObject({
        ok: false,
        code: 'forbidden',
      });
      expect(
        await one.emitWithAck('metrics', {
          ...lease,
          points: [{ step: 1, epoch: 0, loss: 1, accuracy: 0, samplesPerSecond: 1 }],
        }),
      ).toMatchObject({ ok: false, code: 'forbidden' });
      expect(
        await one.emitWithAck('checkpoint', {
          ...lease,
          epoch: 0,
          step: 1,
          planOffset: 1,
          weights: new Uint8Array(4),
        }),
      ).toMatchObject({ ok: false, code: 'forbidden' });
      expect(await one.emitWithAck('plan:next', { ...lease, offset: 0, count: 1 })).toMatchObject({
        ok: false,
        code: 'forbidden',
      });
      expect(await one.emitWithAck('member:done', { ...lease, samples: 1, seconds: 1 })).toMatchObject({
        ok: false,
        code: 'forbidden',
      });
    }
    // Wrong sizes and values.
    const nan = good.slice();
    nan[7] = Number.NaN;
    const unnormalised = good.map((v) => v * 2);
    const refusals: Array<[Record<string, unknown>, RegExp]> = [
      [
        { rows: rows - 1, probabilities: bytesOf(good.subarray(0, (rows - 1) * 4)) },
        /has \d+ rows, got rows/,
      ],
      [{ probabilities: bytesOf(good.subarray(0, good.length - 4)) }, /must be \d+ × 4 float32 values/],
      [{ numClasses: 5 }, /4 classes/],
      [{ probabilities: bytesOf(nan) }, /row 1, class 3 is NaN/],
      [{ probabilities: bytesOf(unnormalised) }, /row 0 sums to/],
      [{ probabilities: 'not bytes' }, /probabilities[\s\S]*binary/],
    ];
    for (const [overrides, message] of refusals) {
      const answer = await one.emitWithAck('predictions', predictions(leaseOf(mine), overrides));
      expect(answer).toMatchObject({ ok: false, code: 'invalid-input' });
      expect(!answer.ok && answer.message).toMatch(message);
    }
    const inRun = { where: { member: { runId } } };
    expect(await fixture.prisma.prediction.count(inRun)).toBe(0);
    expect(await fixture.prisma.checkpoint.count(inRun)).toBe(0);

    // Everyone is still served.
    expect(await two.emitWithAck('predictions', predictions(leaseOf(theirs)))).toEqual({ ok: true });
    expect(await one.emitWithAck('predictions', predictions(leaseOf(mine)))).toEqual({ ok: true });
    expect(await fixture.prisma.prediction.count(inRun)).toBe(2);
    expect(await httpClient(fixture.coordinator).health()).toMatchObject({ ok: true });
    one.close();
    two.close();
    await cancel(runId);
  });
});

describe('leases', () => {
  it('re-queue a member whose lease expired; the next claim resumes from its checkpoint', async () => {
    const runId = await launch(1);
    const lost = await connectWorker(fixture.coordinator);
    const first = await claim(lost);
    expect(first).toMatchObject({ attempt: 1, planOffset: 0, epoch: 0, checkpoint: null });
    const weights = checkpointFor(first, (i) => i % 5);
    for (const [epoch, step] of [
      [0, 5],
      [1, 7],
    ] as const) {
      const checkpoint = { ...leaseOf(first), epoch, step, planOffset: step, weights };
      expect(await lost.emitWithAck('checkpoint', checkpoint)).toEqual({ ok: true });
    }
    expect(await lost.emitWithAck('heartbeat', { members: [leaseOf(first)] })).toEqual({
      ok: true,
      revoked: [],
    });
    expect(await readOnlyAnswers(lost, leaseOf(first), 1)).toEqual(['ok', 'ok']);

    const other = await connectWorker(fixture.coordinator);
    const nudged = new Promise<void>((resolve) => other.once('work:available', () => resolve()));
    expect(await other.emitWithAck('member:request', {})).toEqual({ ok: true, assignment: null });
    clock.advance(LEASE_MS + 1);
    await nudged; // the sweep re-queued the member and told the workers
    const member = await fixture.repos.members.get(first.memberId);
    expect(member).toMatchObject({ status: 'pending', workerId: null });

    const resumed = await claim(other);
    expect(resumed).toMatchObject({
      memberId: first.memberId,
      attempt: 2,
      planOffset: 7,
      epoch: 1,
      checkpoint: { epoch: 1, step: 7, planOffset: 7, url: `/api/checkpoints/${first.memberId}/1` },
    });
    const rest = await other.emitWithAck('plan:next', { ...leaseOf(resumed), offset: 7, count: 100 });
    if (!rest.ok) throw new Error(rest.message);
    expect(rest.chunk.sizes).toHaveLength(resumed.totalBatches - 7);
    const download = await httpClient(fixture.coordinator, WORKER_TOKEN).getCheckpoint({
      params: { memberId: first.memberId, epoch: 1 },
    });
    expect(download.headers['x-chorus-plan-offset']).toBe(7);
    expect([...download.bytes]).toEqual([...weights]);

    // The worker that lost the lease is told so, and can no longer write.
    expect(await lost.emitWithAck('heartbeat', { members: [leaseOf(first)] })).toEqual({
      ok: true,
      revoked: [leaseOf(first)],
    });
    expect(
      await lost.emitWithAck('checkpoint', { ...leaseOf(first), epoch: 2, step: 9, planOffset: 9, weights }),
    ).toMatchObject({ ok: false, code: 'forbidden' });
    expect(await readOnlyAnswers(lost, leaseOf(first), 2)).toEqual(['forbidden', 'forbidden']);
    expect(await readOnlyAnswers(other, leaseOf(resumed), 8)).toEqual(['ok', 'ok']);
    expect(await other.emitWithAck('heartbeat', { members: [leaseOf(resumed)] })).toEqual({
      ok: true,
      revoked: [],
    });
    lost.close();
    other.close();
    await cancel(runId);
  });

  it('re-queue a failed member up to three attempts, then fail the run with its message', async () => {
    const runId = await launch(1);
    const worker = await connectWorker(fixture.coordinator);
    for (let attempt = 1; attempt <= 3; attempt++) {
      const a = await claim(worker);
      expect(a.attempt).toBe(attempt);
      expect(await readOnlyAnswers(worker, leaseOf(a), 1)).toEqual(['ok', 'ok']);
      expect(
        await worker.emitWithAck('member:failed', { ...leaseOf(a), error: `model exploded #${attempt}` }),
      ).toEqual({
        ok: true,
        requeued: attempt < 3,
      });
      expect(await readOnlyAnswers(worker, leaseOf(a), 2)).toEqual(['forbidden', 'forbidden']);
    }
    const run = await fixture.repos.runs.get(runId);
    expect(run).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/member 0 failed 3 times.*model exploded #3/),
    });
    expect(run?.members[0]).toMatchObject({ status: 'failed', error: 'model exploded #3' });
    expect(await worker.emitWithAck('member:request', {})).toEqual({ ok: true, assignment: null });
    worker.close();
  });

  it('are revoked when the run is cancelled', async () => {
    const runId = await launch(2);
    const worker = await connectWorker(fixture.coordinator);
    const a = await claim(worker);
    expect(await readOnlyAnswers(worker, leaseOf(a), 1)).toEqual(['ok', 'ok']);
    const revoked = new Promise((resolve) => worker.once('member:revoke', resolve));
    await cancel(runId);
    expect(await revoked).toEqual({ ...leaseOf(a), reason: 'run cancelled' });
    expect(await readOnlyAnswers(worker, leaseOf(a), 2)).toEqual(['forbidden', 'forbidden']);
    expect(await worker.emitWithAck('heartbeat', { members: [leaseOf(a)] })).toEqual({
      ok: true,
      revoked: [leaseOf(a)],
    });
    expect(await worker.emitWithAck('member:request', {})).toEqual({ ok: true, assignment: null });
    expect(await httpClient(fixture.coordinator).getRun({ params: { id: runId } })).toMatchObject({
      status: 'cancelled',
    });
    worker.close();
  });

  it('survive a reconnect for the members the worker still trains; the others go back to the queue', async () => {
    const runId = await launch(2);
    const auth = handshake();
    const first = await connectWorker(fixture.coordinator, auth);
    const kept = await claim(first);
    const dropped = await claim(first);
    first.close();
    await expectEventually(async () =>
      expect((await fixture.repos.workers.get(auth.workerId))?.status).toBe('offline'),
    );
    // Still leased: the worker may come back before the lease expires.
    expect((await fixture.repos.members.get(dropped.memberId))?.status).toBe('leased');

    const again = await connectWorker(fixture.coordinator, { ...auth, activeMembers: [kept.memberId] });
    await expectEventually(async () =>
      expect((await fixture.repos.members.get(dropped.memberId))?.status).toBe('pending'),
    );
    expect(await fixture.repos.members.get(kept.memberId)).toMatchObject({
      status: 'leased',
      workerId: auth.workerId,
    });
    expect((await fixture.repos.workers.get(auth.workerId))?.status).toBe('online');
    expect(await again.emitWithAck('heartbeat', { members: [leaseOf(kept), leaseOf(dropped)] })).toEqual({
      ok: true,
      revoked: [leaseOf(dropped)],
    });
    expect(await readOnlyAnswers(again, leaseOf(kept), 1)).toEqual(['ok', 'ok']);
    expect(await readOnlyAnswers(again, leaseOf(dropped), 1)).toEqual(['forbidden', 'forbidden']);
    again.close();
    await cancel(runId);
  });
});
