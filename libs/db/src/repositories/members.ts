import type { PrismaClient } from '../client';
import type { MemberStatus } from '../generated/prisma/client';
import { memberOf, type Member } from './records';
import { systemClock, type RepositoryOptions } from './types';

const HELD: MemberStatus[] = ['leased', 'running'];

export interface ClaimRequest {
  workerId: string;
  /** How long the lease lasts unless renewed by the worker's heartbeat. */
  leaseMs: number;
  /** Only claim members of these runs (default: any run that is pending or running). */
  runIds?: string[];
  /** Only claim one of these members (a member handed over to this worker). */
  memberIds?: string[];
  /** Never claim these members (handed over to another worker, which has yet to take them). */
  excludeMemberIds?: string[];
}

/** A member another worker trains, with what a handover decision needs (handoverCandidates). */
export interface HandoverCandidate {
  id: string;
  runId: string;
  index: number;
  attempt: number;
  workerId: string;
  /** Steps trained (= the plan offset reached), as last recorded. */
  step: number;
  /** Its holder's latest reported training speed (null before any metrics). */
  samplesPerSecond: number | null;
  /** The requesting worker's mean speed over the members of this run it completed. */
  requesterSamplesPerSecond: number;
}

export interface LeaseRef {
  memberId: string;
  workerId: string;
}

/** A lease as the coordinator keeps it in memory (what workers.heartbeat returns). */
export interface HeldLease {
  id: string;
  runId: string;
  index: number;
  attempt: number;
  workerId: string;
  status: 'leased' | 'running';
}

export interface MemberProgress extends LeaseRef {
  step: number;
  epoch: number;
  planOffset: number;
  samples: number;
  samplesPerSecond?: number | null;
}

/**
 * Members and their leases. A member is claimable when it is `pending`, or `leased`/`running`
 * with a lease that has expired (its worker stopped heartbeating): it then resumes from its last
 * checkpoint elsewhere. Every lease operation names the worker, so a worker whose lease was taken
 * over cannot write to the member any more.
 */
export function createMemberRepository(prisma: PrismaClient, options: RepositoryOptions = {}) {
  const clock = options.clock ?? systemClock;

  return {
    /**
     * Atomically leases the next claimable member to `workerId`, fairly across runs: the run with
     * the fewest members currently held goes first, then the oldest run, then the lowest index.
     * One UPDATE … WHERE id = (SELECT … FOR UPDATE SKIP LOCKED) statement, so concurrent claimers
     * (several coordinator connections) never get the same member and never wait on each other.
     * Marks the member's run `running` on its first lease. Returns null when nothing is claimable.
     */
    async claimNext(request: ClaimRequest): Promise<Member | null> {
      const now = clock();
      const expiresAt = new Date(now.getTime() + request.leaseMs);
      const runFilter = request.runIds;
      const only = request.memberIds;
      const excluded = request.excludeMemberIds ?? [];
      const rows = await prisma.$queryRaw<Array<{ id: string; runId: string }>>`
        UPDATE "Member" AS m
           SET "status" = 'leased',
               "workerId" = ${request.workerId},
               "leaseExpiresAt" = ${expiresAt}::timestamp(3),
               "attempt" = m."attempt" + 1
         WHERE m."id" = (
                 SELECT c."id"
                   FROM "Member" AS c
                   JOIN "Run" AS r ON r."id" = c."runId"
                  WHERE r."status" IN ('pending', 'running')
                    AND (${runFilter === undefined}::boolean OR c."runId" = ANY(${runFilter ?? []}::text[]))
                    AND (${only === undefined}::boolean OR c."id" = ANY(${only ?? []}::text[]))
                    AND NOT (c."id" = ANY(${excluded}::text[]))
                    AND (c."status" = 'pending'
                         OR (c."status" IN ('leased', 'running') AND c."leaseExpiresAt" < ${now}::timestamp(3)))
                  ORDER BY (SELECT count(*) FROM "Member" AS h
                             WHERE h."runId" = c."runId"
                               AND h."status" IN ('leased', 'running')
                               AND h."leaseExpiresAt" >= ${now}::timestamp(3)) ASC,
                           r."createdAt" ASC, r."id" ASC, c."index" ASC
                  LIMIT 1
                    FOR UPDATE OF c SKIP LOCKED
               )
        RETURNING m."id", m."runId"`.catch((error: unknown) => {
        if (error instanceof Error && error.message.includes('Member_workerId_fkey')) {
          throw new Error(
            `worker ${request.workerId} is not registered: register it before it claims members`,
            {
              cause: error,
            },
          );
        }
        throw error;
      });
      const claimed = rows[0];
      if (!claimed) return null;
      await prisma.run.updateMany({
        where: { id: claimed.runId, status: 'pending' },
        data: { status: 'running', startedAt: now },
      });
      const member = await prisma.member.findUnique({ where: { id: claimed.id } });
      return member && memberOf(member);
    },

    /**
     * Members of running runs that other workers hold under a live lease, in runs where
     * `workerId` completed members (so its speed there is known), and whose holder was never
     * asked to hand them over (a member moves once at most).
     */
    handoverCandidates(workerId: string): Promise<HandoverCandidate[]> {
      const now = clock();
      return prisma.$queryRaw<HandoverCandidate[]>`
        SELECT m."id", m."runId", m."index", m."attempt", m."workerId", m."step",
               m."samplesPerSecond"::float8 AS "samplesPerSecond", own.rate AS "requesterSamplesPerSecond"
          FROM "Member" AS m
          JOIN "Run" AS r ON r."id" = m."runId" AND r."status" = 'running'
          JOIN (SELECT "runId", avg("samplesPerSecond")::float8 AS rate
                  FROM "Member"
                 WHERE "workerId" = ${workerId} AND "status" = 'completed' AND "samplesPerSecond" > 0
                 GROUP BY "runId") AS own ON own."runId" = m."runId"
         WHERE m."status" IN ('leased', 'running')
           AND m."workerId" <> ${workerId}
           AND m."leaseExpiresAt" >= ${now}::timestamp(3)
           AND m."handoverAskedAt" IS NULL
         ORDER BY m."id"`;
    },

    /**
     * Records that the holder of the member, under this attempt, is asked to hand it over: once
     * per member, so false when it was asked before or the lease is gone (then nobody is asked).
     */
    async askHandover(lease: LeaseRef & { attempt: number }): Promise<boolean> {
      const { count } = await prisma.member.updateMany({
        where: {
          id: lease.memberId,
          workerId: lease.workerId,
          attempt: lease.attempt,
          status: { in: HELD },
          handoverAskedAt: null,
        },
        data: { handoverAskedAt: clock() },
      });
      return count === 1;
    },

    /** Extends the lease while the worker still holds it; false when the lease was lost. */
    async renewLease(lease: LeaseRef & { leaseMs: number }): Promise<boolean> {
      const expiresAt = new Date(clock().getTime() + lease.leaseMs);
      const { count } = await prisma.member.updateMany({
        where: { id: lease.memberId, workerId: lease.workerId, status: { in: HELD } },
        data: { leaseExpiresAt: expiresAt },
      });
      return count === 1;
    },

    /** Returns members whose lease has expired to the queue (`pending`); returns them. */
    async expireLeases(): Promise<Member[]> {
      const rows = await prisma.member.updateManyAndReturn({
        where: { status: { in: HELD }, leaseExpiresAt: { lt: clock() } },
        data: { status: 'pending', workerId: null, leaseExpiresAt: null },
      });
      return rows.map(memberOf);
    },

    /**
     * Records training progress (and `running`) while the worker holds the lease. Progress never
     * goes backwards: a stale or duplicated message (step lower than stored) changes nothing.
     * Returns false when the lease was lost or the message was stale.
     */
    async recordProgress(progress: MemberProgress): Promise<boolean> {
      const { count } = await prisma.member.updateMany({
        where: {
          id: progress.memberId,
          workerId: progress.workerId,
          status: { in: HELD },
          step: { lte: progress.step },
        },
        data: {
          status: 'running',
          step: progress.step,
          epoch: progress.epoch,
          planOffset: progress.planOffset,
          samples: progress.samples,
          ...(progress.samplesPerSecond !== undefined && { samplesPerSecond: progress.samplesPerSecond }),
        },
      });
      return count === 1;
    },

    /**
     * recordProgress for many members in one statement (the metrics buffer's flush): each entry
     * is applied under the same conditions (the worker still holds the lease, progress never goes
     * backwards). Entries must name distinct members. Returns how many members were updated.
     */
    async recordProgressMany(progress: readonly MemberProgress[]): Promise<number> {
      if (progress.length === 0) return 0;
      const ids = progress.map((p) => p.memberId);
      if (new Set(ids).size !== ids.length)
        throw new RangeError('recordProgressMany: a member is listed twice');
      const sps = progress.map((p) => p.samplesPerSecond ?? null);
      const hasSps = progress.map((p) => p.samplesPerSecond !== undefined);
      return prisma.$executeRaw`
        UPDATE "Member" AS m
           SET "status" = 'running',
               "step" = u.step,
               "epoch" = u.epoch,
               "planOffset" = u.plan_offset,
               "samples" = u.samples,
               "samplesPerSecond" = CASE WHEN u.has_sps THEN u.sps ELSE m."samplesPerSecond" END
          FROM unnest(${ids}::text[], ${progress.map((p) => p.workerId)}::text[],
                      ${progress.map((p) => p.step)}::int[], ${progress.map((p) => p.epoch)}::int[],
                      ${progress.map((p) => p.planOffset)}::int[], ${progress.map((p) => p.samples)}::int[],
                      ${sps}::float8[], ${hasSps}::boolean[])
               AS u(id, worker_id, step, epoch, plan_offset, samples, sps, has_sps)
         WHERE m."id" = u.id
           AND m."workerId" = u.worker_id
           AND m."status" IN ('leased', 'running')
           AND m."step" <= u.step`;
    },

    /** Latest evaluation accuracies of several members in one statement (an undefined one is kept). */
    async setAccuracies(
      list: ReadonlyArray<{ memberId: string; valAccuracy?: number; testAccuracy?: number }>,
    ): Promise<void> {
      if (list.length === 0) return;
      await prisma.$executeRaw`
        UPDATE "Member" AS m
           SET "valAccuracy" = COALESCE(u.val, m."valAccuracy"),
               "testAccuracy" = COALESCE(u.test, m."testAccuracy")
          FROM unnest(${list.map((a) => a.memberId)}::text[],
                      ${list.map((a) => a.valAccuracy ?? null)}::float8[],
                      ${list.map((a) => a.testAccuracy ?? null)}::float8[]) AS u(id, val, test)
         WHERE m."id" = u.id`;
    },

    /** The worker finished the member. Idempotent: completing it again reports true. */
    async complete(lease: LeaseRef & { valAccuracy?: number; testAccuracy?: number }): Promise<boolean> {
      const { count } = await prisma.member.updateMany({
        where: { id: lease.memberId, workerId: lease.workerId, status: { in: [...HELD, 'completed'] } },
        data: {
          status: 'completed',
          leaseExpiresAt: null,
          ...(lease.valAccuracy !== undefined && { valAccuracy: lease.valAccuracy }),
          ...(lease.testAccuracy !== undefined && { testAccuracy: lease.testAccuracy }),
        },
      });
      return count === 1;
    },

    /** The member cannot be trained (e.g. its model does not build): it leaves the queue. */
    async fail(lease: LeaseRef & { error: string }): Promise<boolean> {
      const { count } = await prisma.member.updateMany({
        where: { id: lease.memberId, workerId: lease.workerId, status: { in: [...HELD, 'failed'] } },
        data: { status: 'failed', leaseExpiresAt: null, error: lease.error },
      });
      return count === 1;
    },

    /**
     * The holder hands the member back after it was asked to (askHandover): it returns to the
     * queue, and the lease that ended counts as a handover, not as a failed attempt (`handovers`
     * grows by one, once per member). A member released without being asked gets no such credit,
     * unless `drained`: its worker was drained (shut down on purpose), which is no failure either.
     */
    async handOver(lease: LeaseRef, options: { drained?: boolean } = {}): Promise<boolean> {
      const drained = options.drained === true;
      const count = await prisma.$executeRaw`
        UPDATE "Member"
           SET "status" = 'pending', "workerId" = NULL, "leaseExpiresAt" = NULL,
               "handovers" = CASE WHEN ${drained}::boolean THEN "handovers" + 1
                                  WHEN "handoverAskedAt" IS NOT NULL AND "handovers" = 0
                                  THEN 1 ELSE "handovers" END
         WHERE "id" = ${lease.memberId}
           AND "workerId" = ${lease.workerId}
           AND "status" IN ('leased', 'running')`;
      return count === 1;
    },

    /** The worker hands the member back without finishing it: it returns to the queue. */
    async release(lease: LeaseRef): Promise<boolean> {
      const { count } = await prisma.member.updateMany({
        where: { id: lease.memberId, workerId: lease.workerId, status: { in: HELD } },
        data: { status: 'pending', workerId: null, leaseExpiresAt: null },
      });
      return count === 1;
    },

    /** Members per status, over every run (the coordinator's `chorus_members` gauge). */
    async countByStatus(): Promise<Array<{ status: string; count: number }>> {
      const groups = await prisma.member.groupBy({ by: ['status'], _count: { _all: true } });
      return groups.map((g) => ({ status: g.status, count: g._count._all }));
    },

    /**
     * The holder gives the member back over a checkpoint (one it sent was refused, or the one it was
     * given did not load): it returns to the queue and, up to `cap` times per member, the lease
     * counts in `checkpointFailures` rather than as a failed attempt. True when it was released.
     */
    async releaseOverCheckpoint(lease: LeaseRef, cap: number): Promise<boolean> {
      const count = await prisma.$executeRaw`
        UPDATE "Member"
           SET "status" = 'pending', "workerId" = NULL, "leaseExpiresAt" = NULL,
               "checkpointFailures" = LEAST("checkpointFailures" + 1, ${cap}::int)
         WHERE "id" = ${lease.memberId}
           AND "workerId" = ${lease.workerId}
           AND "status" IN ('leased', 'running')`;
      return count === 1;
    },

    async get(id: string): Promise<Member | null> {
      const row = await prisma.member.findUnique({ where: { id } });
      return row && memberOf(row);
    },

    /** Which of `ids` are members that exist (a checkpoint directory's owner, say). */
    async existingIds(ids: readonly string[]): Promise<string[]> {
      if (ids.length === 0) return [];
      const rows = await prisma.member.findMany({ where: { id: { in: [...ids] } }, select: { id: true } });
      return rows.map((r) => r.id);
    },

    async listByRun(runId: string): Promise<Member[]> {
      const rows = await prisma.member.findMany({ where: { runId }, orderBy: { index: 'asc' } });
      return rows.map(memberOf);
    },

    async listByWorker(workerId: string): Promise<Member[]> {
      const rows = await prisma.member.findMany({
        where: { workerId, status: { in: HELD } },
        orderBy: { id: 'asc' },
      });
      return rows.map(memberOf);
    },
  };
}

export type MemberRepository = ReturnType<typeof createMemberRepository>;
