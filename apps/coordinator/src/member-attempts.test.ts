import { describe, expect, it } from 'vitest';
import type { Assignment } from '@chorus/protocol';
import {
  checkpointFor,
  claimAssignment,
  connectWorker,
  launchRun,
  leaseOf,
  withCoordinator,
  type WorkerSocket,
} from './testing/harness';
import { MAX_ATTEMPTS, MAX_CHECKPOINT_FAILURES } from './services/scheduler.service';

/**
 * Which ended leases count towards a member's MAX_ATTEMPTS (README "Attempts"): those that end over
 * a checkpoint (refused on arrival, or the stored one does not load on resume) do not, up to
 * MAX_CHECKPOINT_FAILURES; a member that fails on its own still fails the run.
 */

const fixture = withCoordinator();

const tiny = {
  dataset: 'synthetic',
  members: 1,
  epochs: 3,
  batchSize: 64,
  trainLimit: 400,
  validationFraction: 0.25,
  seed: 3,
} as const;

const runStatus = async (runId: string) => (await fixture.repos.runs.get(runId))?.status;

async function fail(worker: WorkerSocket, a: Assignment, error: string, checkpointEpoch?: number) {
  const answer = await worker.emitWithAck('member:failed', {
    ...leaseOf(a),
    error,
    ...(checkpointEpoch !== undefined && { checkpointEpoch }),
  });
  if (!answer.ok) throw new Error(`member:failed refused: ${answer.message}`);
  return answer.requeued;
}

describe('member attempts', () => {
  it('does not count resumes whose stored checkpoint does not load; its own failures still fail the run', async () => {
    expect([MAX_ATTEMPTS, MAX_CHECKPOINT_FAILURES]).toEqual([3, 3]); // the counts below are derived from these
    const runId = await launchRun(fixture.coordinator, tiny);
    const worker = await connectWorker(fixture.coordinator);

    // Attempt 1 stores checkpoints after epochs 0 and 1, then fails on its own (counted: 1).
    const first = await claimAssignment(worker);
    const perEpoch = first.totalBatches / tiny.epochs;
    for (const epoch of [0, 1]) {
      const offset = (epoch + 1) * perEpoch;
      const message = { ...leaseOf(first), epoch, step: offset, planOffset: offset };
      expect(
        await worker.emitWithAck('checkpoint', { ...message, weights: checkpointFor(first, () => epoch) }),
      ).toEqual({ ok: true });
    }
    expect(await fail(worker, first, 'out of memory')).toBe(true);

    // Attempts 2 and 3 resume from epoch 1, then epoch 0; neither loads (removed, not counted).
    const second = await claimAssignment(worker);
    expect(second.checkpoint?.epoch).toBe(1);
    expect(await fail(worker, second, 'checkpoint does not load', 1)).toBe(true);
    const third = await claimAssignment(worker);
    expect(third.checkpoint?.epoch).toBe(0);
    // Counting every lease, this third failure would have failed the run before its fresh start.
    expect(await fail(worker, third, 'checkpoint does not load', 0)).toBe(true);
    expect(await runStatus(runId)).toBe('running');

    // Attempt 4 starts fresh. Naming a checkpoint that no longer exists earns nothing: counted (2).
    const fourth = await claimAssignment(worker);
    expect([fourth.checkpoint, fourth.planOffset]).toEqual([null, 0]);
    expect(await fail(worker, fourth, 'NaN loss', 0)).toBe(true);
    // Attempt 5 fails on its own too: the third counted failure fails the run.
    const fifth = await claimAssignment(worker);
    expect(await fail(worker, fifth, 'NaN loss again')).toBe(false);
    expect(await fixture.repos.runs.get(runId)).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/member 0 failed 3 times; last error: NaN loss again/),
    });
    expect(await fixture.repos.members.get(fifth.memberId)).toMatchObject({
      status: 'failed',
      attempt: 5,
      checkpointFailures: 2,
    });
    worker.close();
  });

  it('does not count leases whose checkpoint was refused on arrival, up to MAX_CHECKPOINT_FAILURES', async () => {
    const runId = await launchRun(fixture.coordinator, tiny);
    const worker = await connectWorker(fixture.coordinator);
    const requeued: boolean[] = [];
    for (let attempt = 1; attempt <= MAX_CHECKPOINT_FAILURES + MAX_ATTEMPTS; attempt++) {
      const a = await claimAssignment(worker);
      expect(a.attempt).toBe(attempt);
      const perEpoch = a.totalBatches / tiny.epochs;
      // Garbage where the checkpoint container should be (a bad CRC, bytes from nowhere).
      const answer = await worker.emitWithAck('checkpoint', {
        ...leaseOf(a),
        epoch: 0,
        step: perEpoch,
        planOffset: perEpoch,
        weights: new Uint8Array(64).fill(7),
      });
      expect(answer).toMatchObject({ ok: false, code: 'invalid-input' });
      requeued.push(await fail(worker, a, `checkpoint refused: ${answer.ok ? '' : answer.message}`));
      if (attempt === MAX_ATTEMPTS) expect(await runStatus(runId)).toBe('running');
    }
    // Three forgiven, then three counted: a member that only ever ends so still ends.
    expect(requeued).toEqual([true, true, true, true, true, false]);
    expect(await runStatus(runId)).toBe('failed');
    expect(await fixture.prisma.checkpoint.count({ where: { member: { runId } } })).toBe(0);
    worker.close();
  });
});
