import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, type PrismaClient } from '../client';
import { withTestDatabase } from '../testing';
import {
  createMemberRepository,
  createRunRepository,
  createWorkerRepository,
  type MemberRepository,
} from './index';
import { parseRunConfig } from '@chorus/protocol';

const db = withTestDatabase();
let now = new Date('2026-03-01T12:00:00.000Z');
const clock = () => now;
const advance = (ms: number) => {
  now = new Date(now.getTime() + ms);
};

/** A second client with its own pool: a second coordinator connection claiming at the same time. */
let otherPrisma: PrismaClient;
let members: MemberRepository;
let otherMembers: MemberRepository;
beforeAll(async () => {
  const workers = createWorkerRepository(db.prisma, { clock });
  for (const id of ['w', 'w1', 'w2', 'w3', 'w4', 'w5', 'w0', 'slow', 'fast', 'gone', 'left']) {
    await workers.register({ id, name: id, host: 'test', backend: 'cpu', device: 'cpu', slots: 1 });
  }
  otherPrisma = createPrismaClient({ connectionString: db.connectionString, maxConnections: 4 });
  members = createMemberRepository(db.prisma, { clock });
  otherMembers = createMemberRepository(otherPrisma, { clock });
});
afterAll(() => otherPrisma?.$disconnect());

async function newRun(count: number, name = 'lease test') {
  now = new Date(now.getTime() + 1); // distinct createdAt, so runs have an age order
  return createRunRepository(db.prisma, { clock }).create({
    name,
    config: parseRunConfig({ dataset: 'digits', members: count }),
    seed: 1,
    datasetName: 'digits',
    numClasses: 10,
    members: Array.from({ length: count }, () => ({})),
  });
}

describe('member leases', () => {
  it('concurrent claimers never get the same member', async () => {
    const run = await newRun(24);
    const runIds = [run.id];
    const claimed: string[] = [];
    const claimer = async (repo: MemberRepository, worker: string) => {
      for (;;) {
        const member = await repo.claimNext({ workerId: worker, leaseMs: 60_000, runIds });
        if (!member) return;
        expect(member).toMatchObject({ status: 'leased', workerId: worker, attempt: 1 });
        claimed.push(member.id);
      }
    };
    await Promise.all([
      claimer(members, 'w1'),
      claimer(otherMembers, 'w2'),
      claimer(members, 'w3'),
      claimer(otherMembers, 'w4'),
    ]);
    expect(claimed).toHaveLength(24);
    expect(new Set(claimed).size).toBe(24);
    expect((await db.prisma.run.findUniqueOrThrow({ where: { id: run.id } })).status).toBe('running');
  });

  it('an expired lease returns the member to the queue, and the old worker loses it', async () => {
    const run = await newRun(1);
    const runIds = [run.id];
    const first = await members.claimNext({ workerId: 'slow', leaseMs: 10_000, runIds });
    expect(first?.index).toBe(0);
    expect(await otherMembers.claimNext({ workerId: 'fast', leaseMs: 10_000, runIds })).toBeNull();

    advance(5_000);
    expect(await members.renewLease({ memberId: first!.id, workerId: 'slow', leaseMs: 10_000 })).toBe(true);
    advance(9_000); // renewed at +5 s for 10 s: still held
    expect(await otherMembers.claimNext({ workerId: 'fast', leaseMs: 10_000, runIds })).toBeNull();
    expect(
      await members.recordProgress({
        memberId: first!.id,
        workerId: 'slow',
        step: 50,
        epoch: 1,
        planOffset: 3200,
        samples: 3200,
      }),
    ).toBe(true);

    advance(2_000); // lease ran out
    const taken = await otherMembers.claimNext({ workerId: 'fast', leaseMs: 10_000, runIds });
    expect(taken).toMatchObject({ id: first!.id, workerId: 'fast', attempt: 2, step: 50, planOffset: 3200 });
    expect(await members.renewLease({ memberId: first!.id, workerId: 'slow', leaseMs: 10_000 })).toBe(false);
    expect(
      await members.recordProgress({
        memberId: first!.id,
        workerId: 'slow',
        step: 60,
        epoch: 1,
        planOffset: 3840,
        samples: 3840,
      }),
    ).toBe(false);
    expect(await members.complete({ memberId: first!.id, workerId: 'slow' })).toBe(false);
    expect(await otherMembers.complete({ memberId: first!.id, workerId: 'fast', testAccuracy: 0.9 })).toBe(
      true,
    );
    expect(await otherMembers.complete({ memberId: first!.id, workerId: 'fast' })).toBe(true); // retried
    expect(await members.get(first!.id)).toMatchObject({
      status: 'completed',
      testAccuracy: 0.9,
      leaseExpiresAt: null,
    });
  });

  it('the sweeper expires leases, only those', async () => {
    const run = await newRun(3);
    const runIds = [run.id];
    const a = await members.claimNext({ workerId: 'gone', leaseMs: 1_000, runIds });
    const b = await members.claimNext({ workerId: 'gone', leaseMs: 1_000, runIds });
    const c = await members.claimNext({ workerId: 'left', leaseMs: 60_000, runIds });
    advance(1_001);
    const expired = await members.expireLeases();
    expect(expired.map((m) => m.id).sort()).toEqual([a!.id, b!.id].sort());
    expect(expired.every((m) => m.status === 'pending' && m.workerId === null)).toBe(true);
    expect((await members.listByRun(run.id)).map((m) => [m.id, m.status])).toEqual([
      [a!.id, 'pending'],
      [b!.id, 'pending'],
      [c!.id, 'leased'],
    ]);
  });

  it('progress never goes backwards', async () => {
    const run = await newRun(1);
    const m = await members.claimNext({ workerId: 'w', leaseMs: 60_000, runIds: [run.id] });
    const lease = { memberId: m!.id, workerId: 'w' };
    expect(
      await members.recordProgress({
        ...lease,
        step: 20,
        epoch: 0,
        planOffset: 1280,
        samples: 1280,
        samplesPerSecond: 500,
      }),
    ).toBe(true);
    expect(
      await members.recordProgress({ ...lease, step: 10, epoch: 0, planOffset: 640, samples: 640 }),
    ).toBe(false);
    expect(
      await members.recordProgress({ ...lease, step: 20, epoch: 0, planOffset: 1280, samples: 1280 }),
    ).toBe(true); // duplicate
    expect(await members.get(m!.id)).toMatchObject({
      status: 'running',
      step: 20,
      planOffset: 1280,
      samplesPerSecond: 500,
    });
  });

  it("records many members' progress in one statement, under the same conditions", async () => {
    const run = await newRun(4);
    const runIds = [run.id];
    const a = await members.claimNext({ workerId: 'w', leaseMs: 60_000, runIds });
    const b = await members.claimNext({ workerId: 'w', leaseMs: 60_000, runIds });
    const c = await members.claimNext({ workerId: 'w1', leaseMs: 60_000, runIds });
    const d = await members.claimNext({ workerId: 'w', leaseMs: 60_000, runIds });
    await members.recordProgress({
      memberId: b!.id,
      workerId: 'w',
      step: 50,
      epoch: 1,
      planOffset: 50,
      samples: 3200,
    });
    await members.release({ memberId: d!.id, workerId: 'w' });
    const progress = (
      memberId: string,
      workerId: string,
      step: number,
      samplesPerSecond?: number | null,
    ) => ({
      memberId,
      workerId,
      step,
      epoch: 0,
      planOffset: step,
      samples: step * 64,
      ...(samplesPerSecond !== undefined && { samplesPerSecond }),
    });
    // a: applied; b: stale (step lower than stored); c: another worker's lease; d: released.
    expect(
      await members.recordProgressMany([
        progress(a!.id, 'w', 10, 321.5),
        progress(b!.id, 'w', 20, 1),
        progress(c!.id, 'w', 30, 1),
        progress(d!.id, 'w', 40, 1),
      ]),
    ).toBe(1);
    expect(await members.get(a!.id)).toMatchObject({
      status: 'running',
      step: 10,
      planOffset: 10,
      samples: 640,
      samplesPerSecond: 321.5,
    });
    expect(await members.get(b!.id)).toMatchObject({ step: 50, epoch: 1 });
    expect(await members.get(c!.id)).toMatchObject({ status: 'leased', step: 0 });
    expect(await members.get(d!.id)).toMatchObject({ status: 'pending', step: 0 });
    // samplesPerSecond left out keeps the stored value; null clears it.
    await members.recordProgressMany([progress(a!.id, 'w', 11)]);
    expect(await members.get(a!.id)).toMatchObject({ step: 11, samplesPerSecond: 321.5 });
    await members.recordProgressMany([progress(a!.id, 'w', 12, null)]);
    expect(await members.get(a!.id)).toMatchObject({ step: 12, samplesPerSecond: null });
    expect(await members.recordProgressMany([])).toBe(0);
    await expect(
      members.recordProgressMany([progress(a!.id, 'w', 13), progress(a!.id, 'w', 14)]),
    ).rejects.toThrow(/listed twice/);
  });

  it("a worker's heartbeat renews the listed leases it still holds under their attempt, only those", async () => {
    const workers = createWorkerRepository(db.prisma, { clock });
    const run = await newRun(3);
    const runIds = [run.id];
    const a = await members.claimNext({ workerId: 'w3', leaseMs: 1_000, runIds });
    const b = await members.claimNext({ workerId: 'w3', leaseMs: 1_000, runIds });
    const c = await members.claimNext({ workerId: 'w4', leaseMs: 1_000, runIds });
    const renewed = await workers.heartbeat(
      'w3',
      [
        { memberId: a!.id, attempt: 1 },
        { memberId: b!.id, attempt: 2 }, // stale attempt
        { memberId: c!.id, attempt: 1 }, // not this worker's
      ],
      60_000,
    );
    expect(renewed).toEqual([
      { id: a!.id, runId: run.id, index: a!.index, attempt: 1, workerId: 'w3', status: 'leased' },
    ]);
    advance(1_001);
    expect((await members.expireLeases()).map((m) => m.id).sort()).toEqual([b!.id, c!.id].sort());
    expect(await workers.heartbeat('w3', [], 60_000)).toEqual([]);
  });

  it("sets several members' accuracies at once, keeping those not given", async () => {
    const run = await newRun(2);
    const [a, b] = await members.listByRun(run.id);
    await members.setAccuracies([
      { memberId: a!.id, valAccuracy: 0.5, testAccuracy: 0.25 },
      { memberId: b!.id, valAccuracy: 0.75 },
    ]);
    await members.setAccuracies([{ memberId: a!.id, testAccuracy: 0.125 }]);
    expect((await members.listByRun(run.id)).map((m) => [m.valAccuracy, m.testAccuracy])).toEqual([
      [0.5, 0.125],
      [0.75, null],
    ]);
  });

  it('shares workers fairly across runs, oldest run first on ties', async () => {
    const older = await newRun(3, 'older');
    const newer = await newRun(3, 'newer');
    const runIds = [older.id, newer.id];
    const order: string[] = [];
    for (let i = 0; i < 6; i++) {
      const m = await members.claimNext({ workerId: `w${i}`, leaseMs: 60_000, runIds });
      order.push(m!.runId === older.id ? `older#${m!.index}` : `newer#${m!.index}`);
    }
    expect(order).toEqual(['older#0', 'newer#0', 'older#1', 'newer#1', 'older#2', 'newer#2']);
  });

  it('refuses a worker that never registered', async () => {
    const run = await newRun(1);
    await expect(
      members.claimNext({ workerId: 'stranger', leaseMs: 1_000, runIds: [run.id] }),
    ).rejects.toThrow(/worker stranger is not registered/);
  });

  it('does not lease members of finished or cancelled runs', async () => {
    const run = await newRun(2);
    await createRunRepository(db.prisma, { clock }).setStatus(run.id, 'cancelled');
    expect(await members.claimNext({ workerId: 'w', leaseMs: 1_000, runIds: [run.id] })).toBeNull();
  });

  it('claims only the named members, or none of the excluded ones', async () => {
    const run = await newRun(3);
    const all = await members.listByRun(run.id);
    const [m0, m1, m2] = all.map((m) => m.id) as [string, string, string];
    const only = await members.claimNext({ workerId: 'w', leaseMs: 60_000, memberIds: [m2] });
    expect(only?.id).toBe(m2);
    expect(await members.claimNext({ workerId: 'w', leaseMs: 60_000, memberIds: [m2] })).toBeNull();
    const next = await members.claimNext({
      workerId: 'w',
      leaseMs: 60_000,
      runIds: [run.id],
      excludeMemberIds: [m0],
    });
    expect(next?.id).toBe(m1);
    expect(
      await members.claimNext({ workerId: 'w', leaseMs: 60_000, runIds: [run.id], excludeMemberIds: [m0] }),
    ).toBeNull();
  });

  it("lists handover candidates: others' live members in runs the requester completed members of", async () => {
    const run = await newRun(3);
    const runIds = [run.id];
    const done = await members.claimNext({ workerId: 'fast', leaseMs: 60_000, runIds });
    const slow = await members.claimNext({ workerId: 'slow', leaseMs: 60_000, runIds });
    const unmeasured = await members.claimNext({ workerId: 'w0', leaseMs: 60_000, runIds });
    // No member of this run completed by 'fast' yet: its speed there is unknown.
    await members.recordProgress({
      ...lease(slow!, 'slow'),
      step: 3,
      epoch: 0,
      planOffset: 3,
      samples: 96,
      samplesPerSecond: 40,
    });
    expect((await members.handoverCandidates('fast')).filter((c) => c.runId === run.id)).toEqual([]);
    await members.recordProgress({
      ...lease(done!, 'fast'),
      step: 9,
      epoch: 0,
      planOffset: 9,
      samples: 288,
      samplesPerSecond: 900,
    });
    await members.complete(lease(done!, 'fast'));
    const candidates = (await members.handoverCandidates('fast')).filter((c) => c.runId === run.id);
    // The requester's own member is no candidate; one without metrics yet is, with no speed.
    expect(candidates).toHaveLength(2);
    expect(candidates.find((c) => c.id === unmeasured!.id)).toMatchObject({
      workerId: 'w0',
      step: 0,
      samplesPerSecond: null,
      requesterSamplesPerSecond: 900,
    });
    expect(candidates.filter((c) => c.id === slow!.id)).toEqual([
      {
        id: slow!.id,
        runId: run.id,
        index: slow!.index,
        attempt: 1,
        workerId: 'slow',
        step: 3,
        samplesPerSecond: 40,
        requesterSamplesPerSecond: 900,
      },
    ]);
    // An expired lease is no candidate.
    advance(61_000);
    expect((await members.handoverCandidates('fast')).filter((c) => c.runId === run.id)).toEqual([]);
  });

  it('asks for a handover once per member, and credits the lease it ends once', async () => {
    const run = await newRun(2);
    const runIds = [run.id];
    const done = await members.claimNext({ workerId: 'fast', leaseMs: 60_000, runIds });
    await members.recordProgress({
      ...lease(done!, 'fast'),
      step: 1,
      epoch: 0,
      planOffset: 1,
      samples: 32,
      samplesPerSecond: 900,
    });
    await members.complete(lease(done!, 'fast'));
    const held = await members.claimNext({ workerId: 'slow', leaseMs: 60_000, runIds });
    const candidates = async () =>
      (await members.handoverCandidates('fast')).filter((c) => c.runId === run.id).map((c) => c.id);
    expect(await candidates()).toEqual([held!.id]);

    // Only the holder under its current attempt can be asked, and only once.
    expect(await members.askHandover({ ...lease(held!, 'slow'), attempt: 2 })).toBe(false);
    expect(await members.askHandover({ ...lease(held!, 'w'), attempt: 1 })).toBe(false);
    expect(await members.askHandover({ ...lease(held!, 'slow'), attempt: 1 })).toBe(true);
    expect(await members.askHandover({ ...lease(held!, 'slow'), attempt: 1 })).toBe(false);
    expect(await members.get(held!.id)).toMatchObject({ handoverAskedAt: now, handovers: 0 });
    expect(await candidates()).toEqual([]);

    // The asked holder hands it back: queued again, one lease credited.
    expect(await members.handOver(lease(held!, 'w'))).toBe(false);
    expect(await members.handOver(lease(held!, 'slow'))).toBe(true);
    expect(await members.get(held!.id)).toMatchObject({ status: 'pending', workerId: null, handovers: 1 });
    // Never twice: a later lease handed back is a plain release.
    const again = await members.claimNext({ workerId: 'w', leaseMs: 60_000, runIds });
    expect(again).toMatchObject({ id: held!.id, attempt: 2 });
    expect(await members.handOver(lease(held!, 'w'))).toBe(true);
    expect(await members.get(held!.id)).toMatchObject({ status: 'pending', handovers: 1 });
  });

  it('a member handed back without being asked gets no credit', async () => {
    const run = await newRun(1);
    const m = await members.claimNext({ workerId: 'w', leaseMs: 60_000, runIds: [run.id] });
    expect(await members.handOver(lease(m!, 'w'))).toBe(true);
    expect(await members.get(m!.id)).toMatchObject({
      status: 'pending',
      handoverAskedAt: null,
      handovers: 0,
    });
  });
});

function lease(member: { id: string }, workerId: string) {
  return { memberId: member.id, workerId };
}
