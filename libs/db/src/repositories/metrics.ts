import type { PrismaClient } from '../client';
import type { MetricPoint } from '../generated/prisma/client';
import { sqlTimestamp } from './types';

export interface MetricPointInput {
  memberId: string;
  step: number;
  epoch: number;
  loss: number;
  accuracy: number;
  samplesPerSecond: number;
  createdAt?: Date;
}

export function createMetricRepository(prisma: PrismaClient) {
  return {
    /**
     * Inserts a batch in one statement; points already stored (same member and step: a retried
     * message) are skipped (ON CONFLICT DO NOTHING). Returns how many were new. One array
     * parameter per column (unnest) rather than Prisma's createMany, which binds every value on
     * its own: for the coordinator's flush of ~500 points that was ~3,500 parameters each walked
     * several times by Prisma's query interpreter on the coordinator's thread.
     */
    async insert(points: readonly MetricPointInput[]): Promise<number> {
      if (points.length === 0) return 0;
      const now = sqlTimestamp(new Date());
      return prisma.$executeRaw`
        INSERT INTO "MetricPoint" ("memberId", "step", "epoch", "loss", "accuracy", "samplesPerSecond", "createdAt")
        SELECT * FROM unnest(${points.map((p) => p.memberId)}::text[], ${points.map((p) => p.step)}::int[],
                             ${points.map((p) => p.epoch)}::int[], ${points.map((p) => p.loss)}::float8[],
                             ${points.map((p) => p.accuracy)}::float8[],
                             ${points.map((p) => p.samplesPerSecond)}::float8[],
                             ${points.map((p) => (p.createdAt ? sqlTimestamp(p.createdAt) : now))}::timestamp(3)[])
        ON CONFLICT ("memberId", "step") DO NOTHING`;
    },

    /** A member's points in step order, after `afterStep` (exclusive) when given. */
    listForMember(
      memberId: string,
      query: { afterStep?: number; limit?: number } = {},
    ): Promise<MetricPoint[]> {
      return prisma.metricPoint.findMany({
        where: { memberId, ...(query.afterStep !== undefined && { step: { gt: query.afterStep } }) },
        orderBy: { step: 'asc' },
        ...(query.limit !== undefined && { take: query.limit }),
      });
    },

    /**
     * The points of a run's members, by member then step. With `maxPerMember`, thinned in the
     * query: each member's step range is cut into `maxPerMember − 1` equal bins, keeping the first
     * point of each and the member's last point, so a 100,000-step run sends at most that many
     * rows per member, evenly spaced by step, first and last included.
     */
    async listForRun(
      runId: string,
      query: { maxPerMember?: number } = {},
    ): Promise<Array<MetricPoint & { memberIndex: number }>> {
      const max = query.maxPerMember;
      if (max !== undefined) {
        if (!Number.isInteger(max) || max < 2)
          throw new RangeError(`maxPerMember must be an integer ≥ 2, not ${max}`);
        return prisma.$queryRaw<Array<MetricPoint & { memberIndex: number }>>`
          SELECT DISTINCT ON (p."memberIndex", p.bin)
                 p."memberId", p."step", p."epoch", p."loss", p."accuracy", p."samplesPerSecond",
                 p."createdAt", p."memberIndex"
            FROM (SELECT mp.*, m."index" AS "memberIndex",
                         CASE WHEN max(mp."step") OVER w = min(mp."step") OVER w THEN 0
                              ELSE floor((mp."step" - min(mp."step") OVER w)::float8 * ${max - 1}
                                         / (max(mp."step") OVER w - min(mp."step") OVER w))
                         END AS bin
                    FROM "MetricPoint" AS mp
                    JOIN "Member" AS m ON m."id" = mp."memberId"
                   WHERE m."runId" = ${runId}
                  WINDOW w AS (PARTITION BY mp."memberId")) AS p
           ORDER BY p."memberIndex", p.bin, p."step"`;
      }
      const rows = await prisma.metricPoint.findMany({
        where: { member: { runId } },
        include: { member: { select: { index: true } } },
        orderBy: [{ memberId: 'asc' }, { step: 'asc' }],
      });
      return rows
        .map(({ member, ...point }) => ({ ...point, memberIndex: member.index }))
        .sort((a, b) => a.memberIndex - b.memberIndex || a.step - b.step);
    },
  };
}

export type MetricRepository = ReturnType<typeof createMetricRepository>;
