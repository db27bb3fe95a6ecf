import { describe, expect, it } from 'vitest';
import { encodeCheckpointBytes } from '@chorus/protocol';
import {
  cancelRun,
  checkpointFor,
  claimAssignment,
  expectEventually,
  connectWorker,
  launchRun,
  leaseOf,
  oneMemberRun,
  socketsClosedAfterAll,
  withCoordinator,
  type WorkerSocket,
} from './testing/harness';

/** Retries of a failed member wait 300 ms, then 600 ms, … */
const BACKOFF_MS = 300;
const fixture = withCoordinator({ retryBackoffMs: BACKOFF_MS });

/** The member handed out again once its backoff has passed. */
const reclaim = (worker: WorkerSocket) => expectEventually(() => claimAssignment(worker), 5_000);

/** One member, 2 epochs of 480 training rows in batches of 64: 16 mini-batches in all. */
const config = oneMemberRun(2);

const sockets = socketsClosedAfterAll();

describe('checkpoints are verified on arrival', () => {
  it('refuses garbage, a flipped byte or another parameter count with invalid-input, storing nothing', async () => {
    const runId = await launchRun(fixture.coordinator, config);
    const worker = await connectWorker(fixture.coordinator);
    sockets.push(worker);
    const assignment = await claimAssignment(worker);
    const lease = leaseOf(assignment);
    const good = checkpointFor(assignment, (i) => i % 11);
    const flipped = good.slice();
    flipped[good.length - 5] = (flipped[good.length - 5] as number) ^ 0x10;
    const garbage = Uint8Array.from({ length: 4096 }, (_, i) => (i * 131 + 7) % 256);
    const refusals: Array<[Uint8Array<ArrayBuffer>, RegExp]> = [
      [garbage, /checkpoint refused: these bytes are not a Chorus checkpoint/],
      [flipped, /checkpoint refused: checkpoint: section weights fails its checksum/],
      [good.subarray(0, good.length - 8), /checkpoint refused: checkpoint: \d+ bytes, its header describes/],
      [
        encodeCheckpointBytes([[8, 8], [4]]),
        /checkpoint refused: the weights hold \d+ parameters, this member has \d+/,
      ],
      [new Uint8Array(0), /checkpoint refused/],
    ];
    for (const [weights, reason] of refusals) {
      const answer = await worker.emitWithAck('checkpoint', {
        ...lease,
        epoch: 0,
        step: 8,
        planOffset: 8,
        weights,
      });
      expect(answer).toMatchObject({ ok: false, code: 'invalid-input' });
      expect((answer as { message: string }).message).toMatch(reason);
    }
    expect(await fixture.prisma.checkpoint.count({ where: { memberId: assignment.memberId } })).toBe(0);

    // The member was not failed by the refusals: the same lease stores a good checkpoint.
    expect(
      await worker.emitWithAck('checkpoint', { ...lease, epoch: 0, step: 8, planOffset: 8, weights: good }),
    ).toEqual({ ok: true });
    const stored = await fixture.repos.checkpoints.latest(assignment.memberId);
    expect(stored?.planOffset).toBe(8);
    expect(
      (await fixture.prisma.member.findUniqueOrThrow({ where: { id: assignment.memberId } })).status,
    ).toBe('leased');
    await cancelRun(fixture.coordinator, runId);
  });
});

describe('a checkpoint a worker cannot load', () => {
  it('is dropped: the next attempt resumes from the previous one, then starts over', async () => {
    const runId = await launchRun(fixture.coordinator, config);
    const worker = await connectWorker(fixture.coordinator);
    sockets.push(worker);
    const first = await claimAssignment(worker);
    expect(first).toMatchObject({ attempt: 1, planOffset: 0, checkpoint: null });
    for (const [epoch, step] of [
      [0, 8],
      [1, 12],
    ] as const) {
      expect(
        await worker.emitWithAck('checkpoint', {
          ...leaseOf(first),
          epoch,
          step,
          planOffset: step,
          weights: checkpointFor(first),
        }),
      ).toEqual({ ok: true });
    }
    // An attempt that simply fails keeps its checkpoints: the next one resumes from the newest.
    const fail = (a: typeof first, checkpointEpoch?: number) =>
      worker.emitWithAck('member:failed', {
        ...leaseOf(a),
        error: 'corrupt checkpoint: section weights fails its checksum',
        ...(checkpointEpoch === undefined ? {} : { checkpointEpoch }),
      });
    expect(await fail(first)).toEqual({ ok: true, requeued: true });
    const second = await reclaim(worker);
    expect(second).toMatchObject({ attempt: 2, planOffset: 12, checkpoint: { epoch: 1, planOffset: 12 } });
    // It could not load epoch 1's: the next attempt gets epoch 0's.
    expect(await fail(second, 1)).toEqual({ ok: true, requeued: true });
    const third = await reclaim(worker);
    expect(third).toMatchObject({ attempt: 3, planOffset: 8, checkpoint: { epoch: 0, planOffset: 8 } });
    await cancelRun(fixture.coordinator, runId);
  });

  it('after the last one, the member starts over', async () => {
    const runId = await launchRun(fixture.coordinator, config);
    const worker = await connectWorker(fixture.coordinator);
    sockets.push(worker);
    const first = await claimAssignment(worker);
    expect(
      await worker.emitWithAck('checkpoint', {
        ...leaseOf(first),
        epoch: 0,
        step: 8,
        planOffset: 8,
        weights: checkpointFor(first),
      }),
    ).toEqual({ ok: true });
    expect(await worker.emitWithAck('member:failed', { ...leaseOf(first), error: 'x' })).toEqual({
      ok: true,
      requeued: true,
    });
    const second = await reclaim(worker);
    expect(second.checkpoint).toMatchObject({ epoch: 0 });
    expect(
      await worker.emitWithAck('member:failed', { ...leaseOf(second), error: 'bad', checkpointEpoch: 0 }),
    ).toEqual({ ok: true, requeued: true });
    const third = await reclaim(worker);
    expect(third).toMatchObject({ attempt: 3, planOffset: 0, epoch: 0, checkpoint: null });
    expect(await fixture.prisma.checkpoint.count({ where: { memberId: first.memberId } })).toBe(0);
    await cancelRun(fixture.coordinator, runId);
  });
});

describe('a failed member', () => {
  it('is handed out again only after a backoff that doubles per failure', async () => {
    const runId = await launchRun(fixture.coordinator, config);
    const worker = await connectWorker(fixture.coordinator);
    sockets.push(worker);
    const claim = async () => (await worker.emitWithAck('member:request', {})) as { assignment?: unknown };
    let a = await claimAssignment(worker);
    for (const wait of [BACKOFF_MS, 2 * BACKOFF_MS]) {
      const failedAt = Date.now();
      expect(await worker.emitWithAck('member:failed', { ...leaseOf(a), error: 'boom' })).toMatchObject({
        requeued: true,
      });
      expect((await claim()).assignment).toBeNull();
      // Idle workers are woken when the backoff ends, not only polled.
      const wokenAt: number[] = [];
      const wake = () => wokenAt.push(Date.now());
      worker.on('work:available', wake);
      await expectEventually(() => expect(wokenAt.some((t) => t - failedAt >= wait - 5)).toBe(true), 5_000);
      worker.off('work:available', wake);
      a = await reclaim(worker);
      expect(Date.now() - failedAt).toBeGreaterThanOrEqual(wait - 5);
    }
    expect(a.attempt).toBe(3);
    await cancelRun(fixture.coordinator, runId);
  });
});
