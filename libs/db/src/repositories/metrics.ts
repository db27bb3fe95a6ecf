import type { PrismaClient } from '../client';
import type { MetricPoint } from '../generated/prisma/client';

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
     * message) are skipped (ON CONFLICT DO NOTHING). Returns how many were new.
     */
    async insert(points: readonly MetricPointInput[]): Promise<number> {
      if (points.length === 0) return 0;
      const { count } = await prisma.metricPoint.createMany({ data: [...points], skipDuplicates: true });
      return count;
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

    /** Every point of a run's members (for a dashboard that reconnects), by member then step. */
    async listForRun(runId: string): Promise<Array<MetricPoint & { memberIndex: number }>> {
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
