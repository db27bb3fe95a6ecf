import { describe, expect, it } from 'vitest';
import type { HandoverCandidate } from '@chorus/db';
import type { Assignment, LeaseRef } from '@chorus/protocol';
import { chooseHandover } from './services/handover.service';
import {
  checkpointFor,
  connectWorker,
  createFakeClock,
  expectEventually,
  handshake,
  httpClient,
  withCoordinator,
  type WorkerSocket,
  cancelRun,
  claimAssignment,
  launchRun,
  leaseOf,
} from './testing/harness';

// The coordinator measures a holder's speed from its progress over wall time: this clock is moved by hand.
const clock = createFakeClock();
const fixture = withCoordinator({ clock: clock.now });

const tiny = {
  dataset: 'synthetic',
  epochs: 2,
  batchSize: 32,
  trainLimit: 400,
  validationFraction: 0.25,
  seed: 5,
} as const;

const launch = (members: number): Promise<string> => launchRun(fixture.coordinator, { ...tiny, members });

async function claim(worker: WorkerSocket): Promise<Assignment | null> {
  const answer = await worker.emitWithAck('member:request', {});
  if (!answer.ok) throw new Error(`member:request refused: ${answer.message}`);
  return answer.assignment;
}

const claimOne = claimAssignment;

/** Events of one kind a scripted worker received. */
function record<E extends 'member:handover' | 'work:available'>(worker: WorkerSocket, event: E): unknown[] {
  const seen: unknown[] = [];
  (worker.on as (e: string, f: (p?: unknown) => void) => void)(event, (p) => seen.push(p ?? null));
  return seen;
}

/**
 * Metrics at `from`, then at `to` after `seconds` on the coordinator's clock (what it measures
 * the holder's speed from; the samples/s the worker reports are deliberately high). Waits until
 * the database shows them.
 */
async function progress(worker: WorkerSocket, lease: LeaseRef, from: number, to: number, seconds: number) {
  for (const step of [from, to]) {
    if (step === to) clock.advance(seconds * 1000);
    const ack = await worker.emitWithAck('metrics', {
      ...lease,
      points: [{ step, epoch: 0, loss: 1, accuracy: 0.5, samplesPerSecond: 1e6 }],
    });
    expect(ack).toEqual({ ok: true });
  }
  await expectEventually(async () => {
    const m = await fixture.repos.members.get(lease.memberId);
    expect(m?.step).toBe(to);
  });
}

const cancel = (runId: string): Promise<void> => cancelRun(fixture.coordinator, runId);

describe('straggler handover', () => {
  it('an idle faster worker takes over a slower worker’s member from a checkpoint taken on request', async () => {
    const runId = await launch(2);
    const fast = await connectWorker(fixture.coordinator, handshake({ slots: 1, name: 'fast' }));
    const slow = await connectWorker(fixture.coordinator, handshake({ slots: 1, name: 'slow' }));
    const asked = record(slow, 'member:handover');
    const fastWoken = record(fast, 'work:available');
    const first = await claimOne(fast);
    const straggler = await claimOne(slow);
    // The fast worker finished its member at 6,000 samples/s; the slow one trains 2 batches of 32 in 10 s.
    expect(await fast.emitWithAck('member:done', { ...leaseOf(first), samples: 600, seconds: 0.1 })).toEqual({
      ok: true,
    });
    await progress(slow, leaseOf(straggler), 1, 3, 10);

    // Nothing is queued: the fast worker gets nothing now, and the slow one is asked to hand over.
    expect(await claim(fast)).toBeNull();
    await expectEventually(() => expect(asked).toHaveLength(1));
    expect(asked[0]).toMatchObject({ ...leaseOf(straggler), reason: expect.stringMatching(/idle/) });

    // The slow worker checkpoints where it stopped and releases the member.
    const weights = checkpointFor(straggler, (i) => i % 7);
    const planOffset = 4;
    expect(
      await slow.emitWithAck('checkpoint', { ...leaseOf(straggler), epoch: 0, step: 4, planOffset, weights }),
    ).toEqual({ ok: true });
    const wokenBefore = fastWoken.length;
    expect(await slow.emitWithAck('member:release', { ...leaseOf(straggler), planOffset })).toEqual({
      ok: true,
    });
    // It is kept for the fast worker: the slow one cannot take it back, the fast one is told.
    expect(await claim(slow)).toBeNull();
    await expectEventually(() => expect(fastWoken.length).toBeGreaterThan(wokenBefore));
    const resumed = await claimOne(fast);
    expect(resumed).toMatchObject({
      memberId: straggler.memberId,
      attempt: straggler.attempt + 1,
      planOffset,
      epoch: 0,
      checkpoint: { epoch: 0, step: 4, planOffset },
    });
    expect(resumed.checkpoint?.url).toBe(`/api/checkpoints/${straggler.memberId}/0`);
    const download = await httpClient(fixture.coordinator, fixture.coordinator.workerToken).getCheckpoint({
      params: { memberId: straggler.memberId, epoch: 0 },
    });
    expect(Array.from(download.bytes)).toEqual(Array.from(weights));
    // The slow worker's lease is over.
    expect(
      await slow.emitWithAck('metrics', {
        ...leaseOf(straggler),
        points: [{ step: 5, epoch: 0, loss: 1, accuracy: 0.5, samplesPerSecond: 20 }],
      }),
    ).toMatchObject({ ok: false, code: 'forbidden' });
    // A member is handed over once at most: the slow worker, now idle, asks nothing of anyone.
    expect(asked).toHaveLength(1);
    fast.close();
    slow.close();
    await cancel(runId);
  });

  it('leaves the member where it is when the idle worker is not faster', async () => {
    const runId = await launch(2);
    const a = await connectWorker(fixture.coordinator, handshake({ slots: 1, name: 'a' }));
    const b = await connectWorker(fixture.coordinator, handshake({ slots: 1, name: 'b' }));
    const asked = record(b, 'member:handover');
    const first = await claimOne(a);
    const second = await claimOne(b);
    // a trained at 30 samples/s, b trains at 32 (2 batches of 32 in 2 s): a handover would only cost time.
    expect(await a.emitWithAck('member:done', { ...leaseOf(first), samples: 30, seconds: 1 })).toEqual({
      ok: true,
    });
    await progress(b, leaseOf(second), 1, 3, 2);
    expect(await claim(a)).toBeNull();
    // The claim above is answered after any handover request is sent; give the event time to arrive.
    await new Promise((r) => setTimeout(r, 200));
    expect(asked).toHaveLength(0);
    a.close();
    b.close();
    await cancel(runId);
  });

  it('remembers across restarts that a member was asked for, and the attempt its handover granted', async () => {
    const runId = await launch(2);
    const fastHello = handshake({ slots: 1, name: 'fast' });
    const slowHello = handshake({ slots: 1, name: 'slow' });
    let fast = await connectWorker(fixture.coordinator, fastHello);
    let slow = await connectWorker(fixture.coordinator, slowHello);
    let asked = record(slow, 'member:handover');
    const first = await claimOne(fast);
    const straggler = await claimOne(slow);
    expect(await fast.emitWithAck('member:done', { ...leaseOf(first), samples: 600, seconds: 0.1 })).toEqual({
      ok: true,
    });
    await progress(slow, leaseOf(straggler), 1, 3, 10);
    expect(await claim(fast)).toBeNull();
    await expectEventually(() => expect(asked).toHaveLength(1));

    // Restart before the holder answers: both workers reconnect, the holder still training.
    await fixture.restart();
    fast = await connectWorker(fixture.coordinator, fastHello);
    slow = await connectWorker(fixture.coordinator, { ...slowHello, activeMembers: [straggler.memberId] });
    asked = record(slow, 'member:handover');
    // The new coordinator measures the holder as slow again, yet does not ask a second time.
    await progress(slow, leaseOf(straggler), 3, 5, 10);
    expect(await claim(fast)).toBeNull();
    await new Promise((r) => setTimeout(r, 200));
    expect(asked).toHaveLength(0);
    // The holder answers the first request now: the member is handed over (one lease credited).
    expect(
      await slow.emitWithAck('checkpoint', {
        ...leaseOf(straggler),
        epoch: 0,
        step: 5,
        planOffset: 5,
        weights: checkpointFor(straggler),
      }),
    ).toEqual({ ok: true });
    expect(await slow.emitWithAck('member:release', { ...leaseOf(straggler), planOffset: 5 })).toEqual({
      ok: true,
    });
    slow.close();

    // After another restart, the member fails on three more leases before its run fails: its
    // first lease ended by a handover, which is not a failure.
    await fixture.restart();
    fast = await connectWorker(fixture.coordinator, fastHello);
    for (const attempt of [2, 3, 4]) {
      const a = await claimOne(fast);
      expect(a).toMatchObject({ memberId: straggler.memberId, attempt });
      expect(
        await fast.emitWithAck('member:failed', { ...leaseOf(a), error: `model exploded #${attempt}` }),
      ).toEqual({ ok: true, requeued: attempt < 4 });
    }
    expect(await fixture.repos.runs.get(runId)).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(
        new RegExp(`member ${straggler.memberIndex} failed 3 times.*model exploded #4`),
      ),
    });
    fast.close();
  });
});

describe('chooseHandover', () => {
  const limits = { costSeconds: 3, minGainSeconds: 2, minGainShare: 0.1 };
  const candidate = (id: string, holder: number, requester: number): HandoverCandidate => ({
    id,
    runId: 'r',
    index: 0,
    attempt: 1,
    workerId: 'w',
    step: 0,
    samplesPerSecond: holder,
    requesterSamplesPerSecond: requester,
  });

  it('picks the member whose move gains the most time', () => {
    const remaining = new Map([
      ['a', 30_000],
      ['b', 60_000],
    ]);
    const choice = chooseHandover(
      [candidate('a', 2_000, 3_000), candidate('b', 2_000, 3_000)],
      (c) => remaining.get(c.id) ?? 0,
      limits,
    );
    // b: 30 s on its holder against 20 s + 3 s; a: 15 s against 10 s + 3 s.
    expect(choice?.candidate.id).toBe('b');
    expect(choice?.holderSeconds).toBeCloseTo(30);
    expect(choice?.requesterSeconds).toBeCloseTo(23);
  });

  it('declines when the gain is under the cost, the minimum seconds or the minimum share', () => {
    // 10 s against 6.7 s + 3 s: 0.3 s gained.
    expect(chooseHandover([candidate('a', 2_000, 3_000)], () => 20_000, limits)).toBeNull();
    // 100 s against 90.9 s + 3 s: 6.1 s gained, under 10% of 100 s.
    expect(chooseHandover([candidate('a', 1_000, 1_100)], () => 100_000, limits)).toBeNull();
    // A slower requester, a finished member, unknown speeds.
    expect(chooseHandover([candidate('a', 3_000, 2_000)], () => 100_000, limits)).toBeNull();
    expect(chooseHandover([candidate('a', 100, 10_000)], () => 0, limits)).toBeNull();
    expect(chooseHandover([candidate('a', 0, 10_000)], () => 100_000, limits)).toBeNull();
  });
});
