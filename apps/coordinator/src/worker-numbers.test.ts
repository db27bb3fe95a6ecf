import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createDatasetStore } from './dataset-store';
import { createMetricsBuffer } from './metrics-buffer';
import type { Notifiers } from './notifications';
import { createPlanService } from './services/plan.service';
import {
  checkpointFor,
  bytesOf,
  cancelRun,
  claimAssignment,
  connectWorker,
  expectEventually,
  launchRun,
  leaseOf,
  oneMemberRun,
  socketsClosedAfterAll,
  withCoordinator,
} from './testing/harness';

const fixture = withCoordinator();

/** One member, 2 epochs of 480 training rows in batches of 64: 8 mini-batches an epoch, 16 in all. */
const config = oneMemberRun(2);
const TOTAL_BATCHES = 16;

const good = (step: number) => ({ step, epoch: 0, loss: 1.2, accuracy: 0.5, samplesPerSecond: 100 });

const sockets = socketsClosedAfterAll();

/** A scripted worker holding the single member of a fresh run. */
async function holder() {
  const runId = await launchRun(fixture.coordinator, config);
  const worker = await connectWorker(fixture.coordinator);
  sockets.push(worker);
  const assignment = await claimAssignment(worker);
  expect(assignment.totalBatches).toBe(TOTAL_BATCHES);
  return { runId, worker, assignment, lease: leaseOf(assignment) };
}

describe("a worker's numbers are checked against its run before anything is stored", () => {
  it('refuses metric points beyond the plan or out of range, naming the field', async () => {
    const { runId, worker, lease } = await holder();
    const refusals: Array<[unknown, RegExp]> = [
      [
        { ...good(TOTAL_BATCHES + 1) },
        /points\.0\.step: 17 is beyond this member's plan \(16 mini-batches\)/,
      ],
      [{ ...good(3), epoch: 2 }, /points\.0\.epoch: 2 is beyond this member's plan \(epochs 0–1\)/],
      [{ ...good(2 ** 31) }, /points\.0\.step/],
      [{ ...good(3), epoch: 2 ** 31 }, /points\.0\.epoch/],
      [{ ...good(3), accuracy: -5 }, /points\.0\.accuracy/],
      [{ ...good(3), accuracy: 1.5 }, /points\.0\.accuracy/],
      [{ ...good(3), loss: 1e308 }, /points\.0\.loss/],
      [{ ...good(3), loss: -1 }, /points\.0\.loss/],
      [{ ...good(3), samplesPerSecond: Infinity }, /points\.0\.samplesPerSecond/],
    ];
    for (const [point, reason] of refusals) {
      // A good point first: one bad point refuses the whole message.
      const answer = await worker.emitWithAck('metrics', { ...lease, points: [good(1), point] as never });
      expect(answer).toMatchObject({ ok: false, code: 'invalid-input' });
      expect((answer as { message: string }).message).toMatch(
        new RegExp(reason.source.replace('points\\.0', 'points\\.1')),
      );
    }
    expect(await worker.emitWithAck('metrics', { ...lease, points: [good(TOTAL_BATCHES)] })).toEqual({
      ok: true,
    });
    await expectEventually(async () => {
      const points = await fixture.repos.metrics.listForRun(runId);
      expect(points.map((p) => p.step)).toEqual([TOTAL_BATCHES]);
    });
    await cancelRun(fixture.coordinator, runId);
  });

  it('refuses a checkpoint of epoch 999999 (it would prune the real ones) and other bad checkpoints', async () => {
    const { runId, worker, lease, assignment } = await holder();
    const weights = checkpointFor(assignment);
    expect(
      await worker.emitWithAck('checkpoint', { ...lease, epoch: 0, step: 8, planOffset: 8, weights }),
    ).toEqual({ ok: true });
    expect(
      await worker.emitWithAck('checkpoint', { ...lease, epoch: 1, step: 16, planOffset: 16, weights }),
    ).toEqual({ ok: true });
    const bad: Array<[{ epoch: number; step: number; planOffset: number }, RegExp]> = [
      [{ epoch: 999_999, step: 16, planOffset: 16 }, /^epoch: 999999 is beyond this member's plan/],
      [{ epoch: 1, step: 17, planOffset: 16 }, /^step: 17 is beyond/],
      [{ epoch: 1, step: 16, planOffset: 40 }, /^planOffset: 40 is beyond/],
      [{ epoch: 1, step: 16, planOffset: 2 ** 31 }, /planOffset/],
    ];
    for (const [numbers, reason] of bad) {
      const answer = await worker.emitWithAck('checkpoint', { ...lease, ...numbers, weights });
      expect(answer).toMatchObject({
        ok: false,
        code: 'invalid-input',
        message: expect.stringMatching(reason),
      });
    }
    // The real checkpoints are still there, the latest still epoch 1.
    expect(await fixture.prisma.checkpoint.count({ where: { memberId: assignment.memberId } })).toBe(2);
    expect((await fixture.repos.checkpoints.latest(assignment.memberId))?.epoch).toBe(1);

    const release = await worker.emitWithAck('member:release', { ...lease, planOffset: 99 });
    expect(release).toMatchObject({ ok: false, code: 'invalid-input', message: /^planOffset: 99/ });
    await cancelRun(fixture.coordinator, runId);
  });

  it('refuses predictions of a round beyond the run', async () => {
    const { runId, worker, lease } = await holder();
    const answer = await worker.emitWithAck('predictions', {
      ...lease,
      round: 2,
      split: 'validation',
      rows: 120,
      numClasses: 4,
      probabilities: bytesOf(new Float32Array(480).fill(0.25)),
    });
    expect(answer).toMatchObject({ ok: false, code: 'invalid-input', message: /^round: 2 is beyond/ });
    expect(await fixture.prisma.prediction.count({ where: { member: { runId } } })).toBe(0);
    await cancelRun(fixture.coordinator, runId);
  });

  it("never drops another worker's points because of one worker's bad point", async () => {
    const honest = await holder();
    const hostile = await holder();
    const flood = await hostile.worker.emitWithAck('metrics', {
      ...hostile.lease,
      points: [good(2 ** 31 - 1)],
    });
    expect(flood).toMatchObject({ ok: false, code: 'invalid-input' });
    expect(
      await honest.worker.emitWithAck('metrics', { ...honest.lease, points: [good(1), good(2)] }),
    ).toEqual({ ok: true });
    await expectEventually(async () => {
      expect((await fixture.repos.metrics.listForRun(honest.runId)).map((p) => p.step)).toEqual([1, 2]);
    });
    expect(await fixture.repos.metrics.listForRun(hostile.runId)).toEqual([]);
    await cancelRun(fixture.coordinator, honest.runId);
    await cancelRun(fixture.coordinator, hostile.runId);
  });
});

describe('the metrics buffer, when a shared write fails', () => {
  it("writes member by member, so the good points survive a member's bad one", async () => {
    // Two runs' members, their points in one buffer on the real database (what the coordinator's
    // buffer holds between two flushes); one point slipped past the boundary (a step beyond int4).
    const a = await holder();
    const b = await holder();
    const plans = createPlanService({
      repos: fixture.repos,
      store: createDatasetStore(fixture.dataDir),
      logger: pino({ level: 'silent' }),
      datasetLimits: { roots: [fixture.dataDir], maxBytes: 1 << 20 },
    });
    const silent: Notifiers = {
      dashboards: { runsChanged: () => {}, workersChanged: () => {}, runChanged: () => {} },
      workers: {
        workAvailable: () => {},
        workAvailableFor: () => {},
        handover: () => {},
        revoke: () => {},
        drain: () => {},
        connected: async () => false,
      },
    };
    const buffer = createMetricsBuffer({
      repos: fixture.repos,
      plans,
      notify: silent,
      logger: pino({ level: 'silent' }),
      clock: () => new Date(),
      flushMs: 60_000,
    });
    const member = async (m: Awaited<ReturnType<typeof holder>>) => {
      const row = await fixture.repos.members.get(m.assignment.memberId);
      if (!row) throw new Error('no member');
      return row;
    };
    const workerOf = async (m: Awaited<ReturnType<typeof holder>>) => (await member(m)).workerId ?? '';
    buffer.add(await member(a), await workerOf(a), [good(1), good(2), good(3)]);
    buffer.add(await member(b), await workerOf(b), [good(1), { ...good(4), step: 2 ** 31 }]);
    await buffer.close();

    expect((await fixture.repos.metrics.listForRun(a.runId)).map((p) => p.step)).toEqual([1, 2, 3]);
    expect((await member(a)).step).toBe(3);
    expect(await fixture.repos.metrics.listForRun(b.runId)).toEqual([]);
    await cancelRun(fixture.coordinator, a.runId);
    await cancelRun(fixture.coordinator, b.runId);
  });
});
